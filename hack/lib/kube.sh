# Shared by the scripts that build Kubernetes binaries (sourced after gobuild.sh, not run): the
# pinned Kubernetes version and the ldflags that make every binary report it.

kube_module="$(cd "$(dirname "${BASH_SOURCE[0]}")/../controlplane/kube" && pwd)"
k8s_version="$(modver "$kube_module" k8s.io/kubernetes)"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"

# -X flags make `/version`, `kubectl version` and kubeadm's image list tell the truth instead of
# a v0.0.0 placeholder.
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

kube_build() {  # kube_build <command>: one of k8s.io/kubernetes/cmd/*, path in $built
  gobuild "$kube_module" "$1" "$k8s_version" "k8s.io/kubernetes/cmd/$1" "$k8s_ldflags"
}
