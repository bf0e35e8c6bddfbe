#!/usr/bin/env bash
# make test's two tiers, after lint and types (the Makefile's prerequisites):
#   1. the local tier: every test against the local control plane (no kubelet), with the
#      operator as a host process, plus the operator image run through the project's daemon;
#   2. the kind tier: pytest --cluster=kind -m kind, the operator as pods of the image,
#      installed by the chart, on a kind cluster built here (tests/kind first: they install the
#      chart's CRD before any test applies crds/ by hand). Before it, the release is published
#      to a fresh local registry as the release workflow would (hack/release/local.sh), with the
#      previous release beside it (hack/release/previous.sh): the tier installs the previous
#      one and upgrades to this one, pulling both from the registry.
# Needs the project's Docker daemon; where none can be started, the first step fails and says
# what is missing. A daemon this script started is stopped at the end, and the images that
# rebuilt tags left dangling are removed, so a run leaves no process and no stale layers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
# shellcheck source=lib/docker.sh
source "$here/lib/docker.sh"
bin=.venv/bin
workers="${TEST_WORKERS:-2}"

started=""
if ! bash hack/docker/dockerd.sh status >/dev/null 2>&1; then
  bash hack/docker/dockerd.sh up
  started=1
fi
cleanup() {
  bash hack/release/registry.sh down >/dev/null 2>&1 || true
  docker image prune -f >/dev/null 2>&1 || true
  if [[ -n "$started" ]]; then bash hack/docker/dockerd.sh down; fi
}
trap cleanup EXIT

bash hack/image/build.sh
bash hack/kind/build.sh >/dev/null

"$bin/pytest" -n "$workers" --dist loadfile --durations=8
bash hack/release/publish-for-tests.sh
"$bin/pytest" --cluster=kind -m kind tests/kind tests/e2e --durations=8
