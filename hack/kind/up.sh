#!/usr/bin/env bash
# make kind-up: the kind cluster `eks-oidc` (kubeconfig .local/kind.kubeconfig) from the node
# image hack/kind/build.sh gives, pulling from the local registry (hack/release/registry.sh,
# kind-mirror.sh), and the EKS simulator running in it (hack/kind/simulator.yaml) from the
# operator image pushed there. Idempotent: an existing cluster is kept.
# Expects the project's Docker daemon ($DOCKER_HOST), the operator image ($IMAGE) and kubectl on
# PATH (make kind-up sees to all three).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/docker.sh
source "$here/../lib/docker.sh"
repo="$(cd "$here/../.." && pwd)"
name="${KIND_CLUSTER:-eks-oidc}"
image="${IMAGE:-eks-oidc-operator:dev}"
kubeconfig="$repo/.local/kind.kubeconfig"

built="$(bash "$here/build.sh")"
kind="$(sed -n 's/^kind //p' <<< "$built")"
node_image="$(sed -n 's/^node-image //p' <<< "$built")"

clusters="$("$kind" get clusters 2>/dev/null || true)"
if ! grep -qx "$name" <<< "$clusters"; then
  # A free host port for the simulator's NodePort (the kernel picks it; kind binds it next).
  port="$("$repo/.venv/bin/python" -c 'from eks_oidc_testing.ports import free_port; print(free_port())')"
  bash "$here/config.sh" "$node_image" "$port" > "$repo/.local/kind-config.yaml"
  "$kind" create cluster --name "$name" --kubeconfig "$kubeconfig" \
    --config "$repo/.local/kind-config.yaml" --wait 3m
fi
"$kind" export kubeconfig --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1
# No `kind load`: the node pulls from the local registry, as it would from any.
bash "$repo/hack/release/registry.sh" up >/dev/null
registry="$(bash "$repo/hack/release/registry.sh" address)"
simulator_image="$registry/eks-oidc-operator/eks-oidc-operator:dev"
docker tag "$image" "$simulator_image"
docker push -q "$simulator_image" >/dev/null
bash "$repo/hack/release/kind-mirror.sh" "$name" >/dev/null

export KUBECONFIG="$kubeconfig"
# The simulator runs from the operator's image: whichever $IMAGE names.
sed "s|image: eks-oidc-operator:dev|image: $simulator_image|" "$here/simulator.yaml" | kubectl apply -f - >/dev/null
kubectl -n eks-simulator rollout status deployment/eks-simulator --timeout=120s >/dev/null
port="$(docker port "$name-control-plane" 30566/tcp 2>/dev/null | head -n 1)"
cat <<TXT
kind cluster "$name" is up (node image $node_image).
  export KUBECONFIG=$kubeconfig
  EKS simulator: http://eks-simulator.eks-simulator.svc:4566 in the cluster${port:+, http://$port from here}
Install the chart as the README's "Try it on kind" says.
TXT
