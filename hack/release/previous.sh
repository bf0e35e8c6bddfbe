#!/usr/bin/env bash
# The previous release (hack/release/previous), for the upgrade test of the kind tier:
#   - its chart, extracted to .local/release/previous/chart;
#   - its image, built from its sources with this checkout's Dockerfile (the one of 6f9366e never
#     built: its useradd met Debian's group "operator"), tagged eks-oidc-operator:previous, and
#     pushed to the local registry (hack/release/registry.sh up first) as
#     <registry>/eks-oidc-operator/eks-oidc-operator:<its version>.
# Writes .local/release/previous.env (REF, VERSION, CHART, IMAGE).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../lib/docker.sh
source "$repo/hack/lib/docker.sh"
out="${RELEASE_OUT:-$repo/.local/release}"
ref="$(grep -v '^#' "$here/previous" | head -n 1)"
commit="$(git -C "$repo" rev-parse --verify "$ref^{commit}")" || {
  echo "previous.sh: $ref is not in this clone's history (a shallow clone? git fetch --unshallow)" >&2
  exit 1
}
dir="$out/previous"
rm -rf "$dir" && mkdir -p "$dir/src"
git -C "$repo" archive "$commit" pyproject.toml uv.lock README.md operator hack/image-install.sh \
  charts/eks-oidc-operator | tar -x -C "$dir/src"
mv "$dir/src/charts/eks-oidc-operator" "$dir/chart"
mkdir -p "$dir/src/charts/eks-oidc-operator" && cp "$dir/chart/Chart.yaml" "$dir/src/charts/eks-oidc-operator/"
version="$(sed -n -E 's/^appVersion: *"?([^"[:space:]]+)"?.*/\1/p' "$dir/chart/Chart.yaml")"
CONTEXT="$dir/src" REVISION="$commit" BUILD_STAGE=eks-oidc-operator-build:previous \
  IMAGE=eks-oidc-operator:previous bash "$repo/hack/image/build.sh" >"$dir/build.log" 2>&1 || {
  tail -n 20 "$dir/build.log" >&2
  echo "previous.sh: building the image of $ref failed (log: $dir/build.log)" >&2
  exit 1
}
registry="$(bash "$here/registry.sh" address)"
image="$registry/eks-oidc-operator/eks-oidc-operator:$version"
docker tag eks-oidc-operator:previous "$image"
docker push -q "$image" >/dev/null
cat > "$out/previous.env" <<ENV
REF=$ref
VERSION=$version
CHART=$dir/chart
IMAGE=$image
ENV
echo "previous release $ref ($version): chart $dir/chart, image $image"
