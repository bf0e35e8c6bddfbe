#!/usr/bin/env bash
# The local OCI registry (CNCF distribution, hack/release/registry/): a container of the
# project's Docker daemon, published on 127.0.0.1, attached to the kind network when a kind
# cluster runs, so that the node's containerd pulls from it (hosts.toml, see kind-mirror.sh).
#   registry.sh up      start it (idempotent); prints "registry 127.0.0.1:<port>"
#   registry.sh down    stop it and delete what it stored
#   registry.sh address print 127.0.0.1:<port> of the running registry
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../lib/docker.sh
source "$repo/hack/lib/docker.sh"
name="${RELEASE_REGISTRY_NAME:-eks-oidc-registry}"
export DOCKER_BUILDKIT=0

address() {
  local published
  published="$(docker port "$name" 5000/tcp 2>/dev/null | head -n 1)" || return 1
  [[ -n "$published" ]] || return 1
  echo "$published"
}

up() {
  if address >/dev/null 2>&1; then
    echo "registry $(address)"
    return
  fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  bash "$here/tools.sh" registry
  local version context
  version="$(cd "$here/tools/registry" && go list -m -f '{{.Version}}' github.com/distribution/distribution/v3)"
  context="$(mktemp -d)"
  trap 'rm -rf "$context"' RETURN
  cp -L "$repo/.local/bin/registry" "$here/registry/Dockerfile" "$here/registry/config.yml" "$context/"
  local built
  built="$(docker build -q -t "eks-oidc-registry:$version" "$context" 2>&1)" || { echo "$built" >&2; exit 1; }
  # Storage in memory (a release is a few hundred MB; it goes with the container). A network
  # of its own: the project's daemon gives containers none by default (--bridge=none), and
  # only a user-defined network publishes ports. No tracing exporter (nothing listens).
  docker network inspect "$name" >/dev/null 2>&1 || docker network create "$name" >/dev/null
  # A host port chosen now, not by docker: docker picks a new ephemeral one each time the
  # container joins another network (the kind network, later), which would move the address.
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  docker run -d --name "$name" --network "$name" -p "127.0.0.1:$port:5000" \
    --mount type=tmpfs,destination=/var/lib/registry,tmpfs-mode=1777 -e OTEL_TRACES_EXPORTER=none \
    --label eksoidc.io/registry=local "eks-oidc-registry:$version" >/dev/null
  local tries=0
  until curl --noproxy '*' -fsS "http://$(address)/v2/" >/dev/null 2>&1; do
    (( ++tries < 50 )) || { echo "registry.sh: the registry did not answer"; docker logs "$name" >&2; exit 1; }
    sleep 0.1
  done
  echo "registry $(address)"
}

down() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker network rm "$name" >/dev/null 2>&1 || true
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  address) address ;;
  *) echo "usage: registry.sh up|down|address" >&2; exit 2 ;;
esac
