#!/usr/bin/env bash
# What the kind tier installs: this release published to a fresh local registry
# (hack/release/local.sh, the release workflow's steps) and the previous release beside it
# (hack/release/previous.sh). Run by hack/test.sh and make test-kind.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/registry.sh" down
bash "$here/registry.sh" up >/dev/null
bash "$here/local.sh" | grep -E '^(image|chart|release-local)'
bash "$here/previous.sh"
