#!/usr/bin/env bash
# Build kube-apiserver, kubectl, etcd and helm from published Go modules, cached by version.
#
# Why: no Docker engine and no download site are reachable here, but the Go module proxy is.
# Versions come from the go.mod files beside this script (one source of truth); a binary is
# rebuilt only when its cache entry is missing, so a second build -- also from a fresh clone --
# costs seconds. Prints the directory that holds the binaries (`bin dir`) on its last line.
#
# Cache: ${EKS_OIDC_CACHE:-$HOME/.cache/eks-oidc-operator}/bin/<tool>-<version>-<recipe>/<tool>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${EKS_OIDC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eks-oidc-operator}"
out="${1:-$here/../../.local/bin}"
mkdir -p "$cache/bin" "$out"

command -v go >/dev/null || { echo "build.sh: the Go toolchain is needed (go >= 1.25)" >&2; exit 1; }

modver() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }

k8s_version="$(modver kube k8s.io/kubernetes)"
etcd_version="$(modver etcd go.etcd.io/etcd/server/v3)"
helm_version="$(modver helm helm.sh/helm/v3)"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"

# -X flags make `/version` and `kubectl version` tell the truth instead of a v0.0.0 placeholder.
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
# Helm's default .Capabilities.KubeVersion (for `helm template`/`lint`) follows its client-go,
# as helm's own Makefile does; without it helm believes it talks to Kubernetes 1.20.
helm_client_go="$(modver helm k8s.io/client-go)"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(echo "$helm_client_go" | cut -d. -f2)"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(echo "$helm_client_go" | cut -d. -f2)"

build() {  # build <module dir> <tool> <version> <package> <ldflags>
  local dir="$1" tool="$2" version="$3" pkg="$4" ldflags="$5"
  # The recipe (ldflags) is part of the key: changing it rebuilds instead of reusing a stale binary.
  local recipe
  recipe="$(printf '%s' "$pkg $ldflags" | sha256sum | cut -c1-8)"
  local dest="$cache/bin/$tool-$version-$recipe/$tool"
  if [[ ! -x "$dest" ]]; then
    echo "building $tool $version (first time only; cached in $cache)" >&2
    local start=$SECONDS
    (cd "$here/$dir" && go build -buildvcs=false -trimpath -ldflags "$ldflags" -o "$dest.tmp" "$pkg")
    mv "$dest.tmp" "$dest"  # atomic: an interrupted build never leaves a half binary behind
    echo "built $tool in $((SECONDS - start))s" >&2
  fi
  ln -sf "$dest" "$out/$tool"
}

build kube kube-apiserver "$k8s_version" k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build kube kubectl "$k8s_version" k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags"
build etcd etcd "$etcd_version" go.etcd.io/etcd/server/v3 "-s -w"
build helm helm "$helm_version" helm.sh/helm/v3/cmd/helm "$helm_ldflags"

cd "$out" && pwd
