#!/usr/bin/env bash
# Let a kind cluster's node pull from the local registry: kind-mirror.sh <kind cluster>.
# Joins the registry's container to the kind network and tells the node's containerd (whose
# registry config_path is /etc/containerd/certs.d, hack/kind/config.sh) that 127.0.0.1:<port>,
# the address everything on this machine pushes to and names in image references, is served by
# that container over plain HTTP. Pods then pull 127.0.0.1:<port>/... as users pull from a
# registry: no `kind load`. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../lib/docker.sh
source "$repo/hack/lib/docker.sh"
cluster="${1:?usage: kind-mirror.sh <kind cluster>}"
name="${RELEASE_REGISTRY_NAME:-eks-oidc-registry}"
address="$(bash "$here/registry.sh" address)" || { echo "kind-mirror.sh: no registry runs (hack/release/registry.sh up)" >&2; exit 1; }
if ! docker inspect -f '{{json .NetworkSettings.Networks}}' "$name" | grep -q '"kind"'; then
  docker network connect kind "$name"
fi
for node in $(docker ps --filter "label=io.x-k8s.kind.cluster=$cluster" --format '{{.Names}}'); do
  docker exec -i "$node" sh -c "mkdir -p '/etc/containerd/certs.d/$address' && cat > '/etc/containerd/certs.d/$address/hosts.toml'" <<TOML
server = "http://$address"

[host."http://$name:5000"]
  capabilities = ["pull", "resolve"]
TOML
done
echo "kind cluster $cluster pulls $address from $name"
