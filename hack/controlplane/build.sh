#!/usr/bin/env bash
# Build kube-apiserver, kubectl, etcd, helm (3), helm4 and promtool from published Go modules,
# cached by version.
#
# Why: no Docker engine and no download site are reachable here, but the Go module proxy is.
# Versions come from the go.mod files beside this script (one source of truth); a binary is
# rebuilt only when its cache entry is missing, so a second build -- also from a fresh clone --
# costs seconds. Prints the directory that holds the binaries (`bin dir`) on its last line.
#
# Cache: see hack/lib/gobuild.sh (shared with hack/kind/build.sh, which builds the node image).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../../.local/bin}"
mkdir -p "$out"
# shellcheck source=../lib/gobuild.sh
source "$here/../lib/gobuild.sh"
# shellcheck source=../lib/kube.sh
source "$here/../lib/kube.sh"

etcd_version="$(modver "$here/etcd" go.etcd.io/etcd/server/v3)"
helm_version="$(modver "$here/helm" helm.sh/helm/v3)"

helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
# Helm's default .Capabilities.KubeVersion (for `helm template`/`lint`) follows its client-go,
# as helm's own Makefile does; without it helm believes it talks to Kubernetes 1.20.
helm_client_go="$(modver "$here/helm" k8s.io/client-go)"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(echo "$helm_client_go" | cut -d. -f2)"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1"
helm_ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(echo "$helm_client_go" | cut -d. -f2)"

link() {  # link <tool>: the binary just built (or found), under .local/bin
  ln -sf "$built" "$out/$1"
}

kube_build kube-apiserver
link kube-apiserver
kube_build kubectl
link kubectl
gobuild "$here/etcd" etcd "$etcd_version" go.etcd.io/etcd/server/v3 "-s -w"
link etcd
gobuild "$here/helm" helm "$helm_version" helm.sh/helm/v3/cmd/helm "$helm_ldflags"
link helm
# Helm 4 beside it: the chart is tested with both (tests/chart).
helm4_version="$(modver "$here/helm4" helm.sh/helm/v4)"
gobuild "$here/helm4" helm4 "$helm4_version" helm.sh/helm/v4/cmd/helm \
  "-s -w -X helm.sh/helm/v4/internal/version.version=$helm4_version" CGO_ENABLED=0
link helm4
# promtool, for `promtool test rules` on the chart's alerts (tests/chart). Prometheus's service
# discoveries are left out (remove_all_sd): rule tests need none, and they are most of its build.
promtool_version="$(modver "$here/promtool" github.com/prometheus/prometheus)"
gobuild "$here/promtool" promtool "$promtool_version" github.com/prometheus/prometheus/cmd/promtool \
  "-s -w -X github.com/prometheus/common/version.Version=$promtool_version" \
  CGO_ENABLED=0 GOFLAGS=-tags=remove_all_sd
link promtool

cd "$out" && pwd
