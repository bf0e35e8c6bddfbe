#!/usr/bin/env bash
# kind and its node image for the project's pinned Kubernetes version, built here with no
# registry: every binary from a published Go module (or the Kubernetes module's own C source),
# every image from those binaries and Debian packages. Needs the project's Docker daemon
# ($DOCKER_HOST; `make docker-up`).
#
# Prints, on stdout, two lines for callers to read:  kind <path>  and  node-image <tag>.
#
# EKS_OIDC_KIND_NODE=upstream uses kind's published node image for the same version instead
# (pulled; for a laptop or a CI runner that reaches a registry); the default, `local`, builds it.
#
# Caches: binaries in $EKS_OIDC_CACHE/bin (by version and recipe, like the control plane's);
# images in the daemon's data root, tagged by a key over every input, so a second run costs a
# few `docker image inspect` calls. `make clean-kind` removes both.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/docker.sh
source "$here/../lib/docker.sh"
tools="$here/tools"
# shellcheck source=../lib/gobuild.sh
source "$here/../lib/gobuild.sh"
# shellcheck source=../lib/kube.sh
source "$here/../lib/kube.sh"
# shellcheck source=../lib/debian-image.sh
source "$here/../lib/debian-image.sh"

gobuild "$tools/kind" kind "$(modver "$tools/kind" sigs.k8s.io/kind)" sigs.k8s.io/kind "-s -w" CGO_ENABLED=0
kind_bin="$built"
kind_src="$(cd "$tools/kind" && go list -m -f '{{.Dir}}' sigs.k8s.io/kind)"

if [[ "${EKS_OIDC_KIND_NODE:-local}" == upstream ]]; then
  node_image="${EKS_OIDC_KIND_NODE_IMAGE:-kindest/node:$k8s_version}"
  docker image inspect "$node_image" >/dev/null 2>&1 || docker pull "$node_image" >&2
  echo "kind $kind_bin"
  echo "node-image $node_image"
  exit 0
fi

# ---- binaries ------------------------------------------------------------------------------
declare -A bin
for cmd in kubeadm kubelet kube-controller-manager kube-scheduler kube-proxy kubectl kube-apiserver; do
  kube_build "$cmd"
  bin[$cmd]="$built"
done

containerd_version="$(modver "$tools/containerd" github.com/containerd/containerd/v2)"
# The tags drop snapshotters a kind node never uses (and their C dependencies).
containerd_env=(CGO_ENABLED=0 GOFLAGS=-tags=no_btrfs,no_devmapper,no_zfs,no_aufs)
containerd_ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=$containerd_version"
for cmd in containerd ctr containerd-shim-runc-v2; do
  gobuild "$tools/containerd" "$cmd" "$containerd_version" \
    "github.com/containerd/containerd/v2/cmd/$cmd" "$containerd_ldflags" "${containerd_env[@]}"
  bin[$cmd]="$built"
done

crictl_version="$(modver "$tools/crictl" sigs.k8s.io/cri-tools)"
gobuild "$tools/crictl" crictl "$crictl_version" sigs.k8s.io/cri-tools/cmd/crictl \
  "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$crictl_version" CGO_ENABLED=0
bin[crictl]="$built"

coredns_version="$(modver "$tools/coredns" github.com/coredns/coredns)"
gobuild "$tools/coredns" coredns "$coredns_version" github.com/coredns/coredns "-s -w" CGO_ENABLED=0
bin[coredns]="$built"

etcd_version="$(modver "$tools/etcd" go.etcd.io/etcd/server/v3)"
gobuild "$tools/etcd" etcd "$etcd_version" go.etcd.io/etcd/server/v3 "-s -w" CGO_ENABLED=0
bin[etcd]="$built"

# ---- images --------------------------------------------------------------------------------
# Image names are read from the tools that will ask for them (kubeadm's list, kind's containerd
# config), never written here, so they follow the pinned versions.
mapfile -t kubeadm_images < <("${bin[kubeadm]}" config images list --kubernetes-version "$k8s_version")
sandbox_image="$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$kind_src/images/base/files/etc/containerd/config.toml")"
# etcd and CoreDNS are pinned by their own modules: they must be the versions kubeadm asks for,
# or an image would carry a tag its binary does not match.
for ref in "${kubeadm_images[@]}"; do
  case "$ref" in
    */etcd:*) want="v${ref##*:}"; want="${want%-*}"; have="$etcd_version" ;;
    */coredns:*) want="${ref##*:}"; have="$coredns_version" ;;
    *) continue ;;
  esac
  if [[ "$want" != "$have" ]]; then
    echo "kind/build.sh: kubeadm $k8s_version asks for $ref; hack/kind/tools pins $have" >&2
    exit 1
  fi
done

# pause is C: the Kubernetes module ships its source; built static, it runs FROM scratch.
command -v gcc >/dev/null && command -v strip >/dev/null ||
  { echo "kind/build.sh: gcc and binutils (and libc6-dev for -static) are needed for pause" >&2; exit 1; }
pause_version="${sandbox_image##*:}"
kube_src="$(cd "$kube_module" && go mod download -json k8s.io/kubernetes | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
pause_dest="$cache/bin/pause-$pause_version-$(sha256sum < "$kube_src/build/pause/linux/pause.c" | cut -c1-8)/pause"
if [[ ! -x "$pause_dest" ]]; then
  mkdir -p "$(dirname "$pause_dest")"
  gcc -Os -Wall -Werror -static -DVERSION="$pause_version" -o "$pause_dest.tmp" "$kube_src/build/pause/linux/pause.c"
  strip "$pause_dest.tmp" && mv "$pause_dest.tmp" "$pause_dest"
fi
bin[pause]="$pause_dest"

stage="$(mktemp -d "${TMPDIR:-/tmp}/eks-oidc-kind.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

debian_image kube-base ca-certificates iptables nftables conntrack
kube_base="$image"

component_image() {  # component_image <tag> <from> <binary> <path in image>
  local tag="$1" from="$2" binary="$3" path="$4" dir
  dir="$stage/$(basename "$path")"
  mkdir -p "$dir"
  cp "$binary" "$dir/"
  # PATH as upstream images set it: kubeadm's static pods name their command (`etcd`,
  # `kube-apiserver`) without a path.
  printf 'FROM %s\nCOPY %s %s\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT ["%s"]\n' \
    "$from" "$(basename "$binary")" "$path" "$path" > "$dir/Dockerfile"
  # The key: what went in. A rebuilt binary or a new base gives a new image.
  local key
  key="$(cat "$dir/Dockerfile" "$binary" | sha256sum | cut -c1-12)"
  if [[ "$(docker image inspect -f '{{index .Config.Labels "eks-oidc.key"}}' "$tag" 2>/dev/null)" != "$key" ]]; then
    DOCKER_BUILDKIT=0 docker build -q --label "eks-oidc.key=$key" -t "$tag" "$dir" >/dev/null
  fi
  images+=("$tag")
}

images=()
for ref in "${kubeadm_images[@]}" "$sandbox_image"; do
  name="${ref##*/}"
  name="${name%%:*}"
  case "$name" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kube-proxy)
      component_image "$ref" "$kube_base" "${bin[$name]}" "/usr/local/bin/$name" ;;
    etcd) component_image "$ref" scratch "${bin[etcd]}" /usr/local/bin/etcd ;;
    coredns) component_image "$ref" scratch "${bin[coredns]}" /coredns ;;
    pause) component_image "$ref" scratch "${bin[pause]}" /pause ;;
    *) echo "kind/build.sh: no recipe for image $ref" >&2; exit 1 ;;
  esac
done

# kind's base: its own files (entrypoint, containerd config, systemd units) from the kind module,
# on a Debian rootfs with kind's package list, plus containerd, runc and the CNI plugins.
debian_image kind-base systemd conntrack iptables nftables iproute2 ethtool util-linux mount kmod \
  libseccomp2 pigz fuse-overlayfs e2fsprogs bash ca-certificates curl jq procps runc \
  containernetworking-plugins
kind_rootfs="$image"
base_ctx="$stage/base"
mkdir -p "$base_ctx/bin"
cp -r "$kind_src/images/base/files" "$base_ctx/files"
chmod -R u+w "$base_ctx/files"
for cmd in containerd ctr containerd-shim-runc-v2 crictl; do cp "${bin[$cmd]}" "$base_ctx/bin/"; done
cp "$here/node/Dockerfile" "$here/node/10-cni.conflist" "$base_ctx/"
base_key="$( (echo "$kind_rootfs"; cd "$base_ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12)"
base_image="eks-oidc/kind-base:$base_key"
if ! docker image inspect "$base_image" >/dev/null 2>&1; then
  echo "building $base_image" >&2
  DOCKER_BUILDKIT=0 docker build -q --build-arg "ROOTFS=$kind_rootfs" -t "$base_image" "$base_ctx" >/dev/null
fi

# The node image: kind's own node-image step done by hand, since `kind build node-image` pulls
# every image it did not build itself: Kubernetes' binaries in /usr/bin, the version, the
# manifests, and every image imported into the node's containerd (pinned, as kind does).
node_key="$(printf '%s\n' "$base_image" "$k8s_version" "${images[@]}" | cat - \
  "${bin[kubeadm]}" "${bin[kubelet]}" "${bin[kubectl]}" "$here/node/default-storage.yaml" "${BASH_SOURCE[0]}" \
  | sha256sum | cut -c1-12)"
for ref in "${images[@]}"; do node_key="$(printf '%s %s' "$node_key" "$(docker image inspect -f '{{.Id}}' "$ref")" | sha256sum | cut -c1-12)"; done
node_image="eks-oidc/kind-node:$k8s_version-$node_key"
if ! docker image inspect "$node_image" >/dev/null 2>&1; then
  echo "building $node_image" >&2
  start=$SECONDS
  builder="eks-oidc-node-build-$$"
  docker run -d --name "$builder" --entrypoint=sleep --security-opt seccomp=unconfined \
    --network none "$base_image" infinity >/dev/null
  trap 'docker rm -f -v "$builder" >/dev/null 2>&1; rm -rf "$stage"' EXIT
  for cmd in kubeadm kubelet kubectl; do
    docker cp "${bin[$cmd]}" "$builder:/usr/bin/$cmd"
    docker exec "$builder" chown root:root "/usr/bin/$cmd"
  done
  docker exec "$builder" sh -c "mkdir -p /kind/manifests && echo $k8s_version > /kind/version"
  docker cp "$here/node/default-storage.yaml" "$builder:/kind/manifests/default-storage.yaml"
  docker exec "$builder" bash -c 'nohup containerd >/dev/null 2>&1 &
    for i in $(seq 50); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done
    ctr version >/dev/null'
  docker save "${images[@]}" | docker exec -i "$builder" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
  docker exec "$builder" pkill containerd
  # (the builder's pid 1 is sleep, which reaps nothing: a stopped containerd stays a zombie)
  docker exec "$builder" sh -c 'for i in $(seq 150); do ps -C containerd -o stat= | grep -q "^[^Z]" || exit 0; sleep 0.2; done; exit 1'
  docker commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
    "$builder" "$node_image" >/dev/null
  echo "built $node_image in $((SECONDS - start))s" >&2
fi

# What an earlier recipe built and this one superseded (a node image is 1.3 GB); an image a
# cluster still runs stays (docker refuses to remove it).
for superseded in $(docker images eks-oidc/kind-node --format '{{.Repository}}:{{.Tag}}') \
    $(docker images eks-oidc/kind-base --format '{{.Repository}}:{{.Tag}}'); do
  case "$superseded" in
    "$node_image"|"$base_image"|"$kind_rootfs") ;;
    *) docker rmi "$superseded" >/dev/null 2>&1 || true ;;
  esac
done

echo "kind $kind_bin"
echo "node-image $node_image"
