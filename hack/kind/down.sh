#!/usr/bin/env bash
# make kind-down: delete the kind clusters of this project (eks-oidc and any the tests left).
# make clean-kind (--caches): also stop the project's Docker daemon and remove what the kind
# tier caches: the daemon's data root (node image, operator image, layers) and the binaries only
# kind uses. The control plane's binaries and Go's own caches stay.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/docker.sh
source "$here/../lib/docker.sh"
# shellcheck source=../lib/gobuild.sh
source "$here/../lib/gobuild.sh"

kind="$(ls -d "$cache"/bin/kind-*/kind 2>/dev/null | head -n 1 || true)"
if [[ -n "$kind" ]] && bash "$here/../docker/dockerd.sh" status >/dev/null 2>&1; then
  for cluster in $("$kind" get clusters 2>/dev/null); do
    case "$cluster" in
      eks-oidc|eks-oidc-*) "$kind" delete cluster --name "$cluster" ;;
    esac
  done
fi
if [[ "${1:-}" == --caches ]]; then
  bash "$here/../docker/dockerd.sh" down
  if [[ -n "$(cat /proc/"$(cat /run/eks-oidc-docker.pid 2>/dev/null || echo 0)"/comm 2>/dev/null)" ]]; then
    # Another checkout's daemon still runs on this data root: not ours to pull away.
    echo "down.sh: the project's Docker daemon of another checkout still runs; stop it there first" >&2
    exit 1
  fi
  du -sh "$cache/docker" 2>/dev/null || true
  rm -rf "$cache/docker"
  for tool in kind kubeadm kubelet kube-controller-manager kube-scheduler kube-proxy containerd \
      ctr containerd-shim-runc-v2 crictl coredns pause eks-oidc-runc; do
    rm -rf "$cache/bin/$tool"-*
  done
  # etcd of the node image (the control plane's etcd is another version: kept)
  if command -v go >/dev/null; then
    rm -rf "$cache/bin/etcd-$(modver "$here/tools/etcd" go.etcd.io/etcd/server/v3)"-*
  fi
fi
