#!/usr/bin/env bash
# The kind cluster config for this project: config.sh <node image> [simulator host port].
#
# One control-plane node. What differs from kind's defaults, and why:
# - the project's node image (hack/kind/build.sh) has no kindnetd (its source is not on the Go
#   module proxy): the default CNI is off and the node's static CNI config serves its one node;
# - kubelet on a cgroup v1 host: Kubernetes 1.35 refuses cgroup v1 unless failCgroupV1 is false;
# - a host whose capability bounding set lacks CAP_SYS_RESOURCE cannot let kubelet lower
#   oom_score_adj (runc then fails every pod): containerd's restrict_oom_score_adj keeps the
#   adjustments kubelet asks for within what the node may set;
# - with a port, the EKS simulator's NodePort (30566) is published on 127.0.0.1 of the host, so
#   tests reach the same simulator the operator pods reach at its Service;
# - containerd reads per-registry hosts.toml files under /etc/containerd/certs.d, so the local
#   release registry can be named there (hack/release/kind-mirror.sh).
set -euo pipefail
node_image="$1"
sim_port="${2:-}"

cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  apiServerAddress: 127.0.0.1
YAML
if [[ "$node_image" == eks-oidc/* ]]; then
  echo "  disableDefaultCNI: true"
fi
cat <<YAML
nodes:
  - role: control-plane
    image: $node_image
YAML
if [[ -n "$sim_port" ]]; then
  cat <<YAML
    extraPortMappings:
      - {containerPort: 30566, hostPort: $sim_port, listenAddress: 127.0.0.1, protocol: TCP}
YAML
fi
if [[ ! -e /sys/fs/cgroup/cgroup.controllers ]]; then
  cat <<YAML
kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    failCgroupV1: false
YAML
fi
cat <<YAML
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
YAML
bounding="$(sed -n 's/^CapBnd:\s*//p' /proc/self/status)"
if (( (16#$bounding >> 24 & 1) == 0 )); then
  cat <<YAML
  - |-
    [plugins."io.containerd.grpc.v1.cri"]
      restrict_oom_score_adj = true
YAML
fi
