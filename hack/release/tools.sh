#!/usr/bin/env bash
# Build the release tools from published Go modules, cached by version (hack/lib/gobuild.sh),
# and link them under .local/bin:
#   registry    the CNCF distribution registry (github.com/distribution/distribution/v3): the
#               local OCI registry of `make release-local`, on 127.0.0.1
#   cosign      github.com/sigstore/cosign/v2: signs and attests (the SBOM) the image and the
#               chart, and verifies both
#   actionlint  github.com/rhysd/actionlint: `make lint` checks .github/workflows with it
# Usage: tools.sh [tool ...] (default: all). Versions: the go.mod beside each tool.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/.local/bin"
mkdir -p "$out"
# shellcheck source=../lib/gobuild.sh
source "$repo/hack/lib/gobuild.sh"

one() {  # one <tool>
  local dir module pkg
  case "$1" in
    registry) dir="$here/tools/registry" module=github.com/distribution/distribution/v3
      pkg="$module/cmd/registry" ;;
    cosign) dir="$here/tools/cosign" module=github.com/sigstore/cosign/v2 pkg="$module/cmd/cosign" ;;
    actionlint) dir="$here/tools/actionlint" module=github.com/rhysd/actionlint
      pkg="$module/cmd/actionlint" ;;
    *) echo "tools.sh: no tool $1 (registry, cosign, actionlint)" >&2; return 1 ;;
  esac
  local version ldflags="-s -w"
  version="$(modver "$dir" "$module")"
  case "$1" in
    # The version each prints of itself, as their own release builds set it.
    cosign) ldflags+=" -X sigs.k8s.io/release-utils/version.gitVersion=$version" ;;
    actionlint) ldflags+=" -X github.com/rhysd/actionlint.version=$version" ;;
    registry) ldflags+=" -X github.com/distribution/distribution/v3/version.version=$version" ;;
  esac
  # Static (no cgo): the registry binary also runs FROM scratch in a container.
  gobuild "$dir" "$1" "$version" "$pkg" "$ldflags" CGO_ENABLED=0
  ln -sf "$built" "$out/$1"
}

tools=("$@")
(( ${#tools[@]} )) || tools=(registry cosign actionlint)
for tool in "${tools[@]}"; do one "$tool"; done
