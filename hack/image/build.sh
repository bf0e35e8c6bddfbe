#!/usr/bin/env bash
# Build the operator image into the project's Docker daemon (make image; tests/image runs it).
#
#   IMAGE        the tag to build (default eks-oidc-operator:dev); the image is also tagged
#                eks-oidc-operator:<the chart's appVersion>
#   DOCKER_HOST  default: the project's daemon, unix://<checkout>/.local/docker.sock
#
# Base: the official python:3.11-slim when the daemon has it or can pull it; else (no registry
# reachable) a Debian 12 python3 root filesystem from this machine's apt mirror
# (hack/lib/debian-image.sh). The line "base: ..." says which one this build used.
#
# Proxy trust: the CA certificates in /usr/local/share/ca-certificates (a TLS-intercepting proxy
# on the way to the package index) go to the build stage as the build argument EXTRA_CA_CERTS,
# never to the runtime stage; see docs/image.md.
#
# The build stage is kept tagged as eks-oidc-operator-build:cache, so a rebuild reuses its
# dependency layer; what a rebuild leaves untagged (this Dockerfile's images only, found by
# their label) is removed at the end.
#
# CONTEXT (default: this checkout) builds other sources with this Dockerfile, e.g. an older
# release's (hack/release/previous.sh); their version comes from their chart, REVISION names
# their commit, and their build stage gets a tag of its own (BUILD_STAGE).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../lib/docker.sh
source "$repo/hack/lib/docker.sh"
export DOCKER_BUILDKIT=0  # Debian's docker.io 20.10 daemon: the legacy builder

target="${IMAGE:-eks-oidc-operator:dev}"
build_stage="${BUILD_STAGE:-eks-oidc-operator-build:cache}"
context="${CONTEXT:-$repo}"
official="python:3.11-slim"
label="eksoidc.io/image"

docker version >/dev/null 2>&1 || {
  echo "build.sh: no Docker daemon answers at $DOCKER_HOST (start the project's: make docker-up)" >&2
  exit 1
}

version="$(sed -n -E 's/^appVersion: *"?([^"[:space:]]+)"?.*/\1/p' "$context/charts/eks-oidc-operator/Chart.yaml")"
[[ -n "$version" ]] || { echo "build.sh: no appVersion in the chart's Chart.yaml" >&2; exit 1; }
source_url="$(sed -n -E 's/^home: *"?([^"[:space:]]+)"?.*/\1/p' "$context/charts/eks-oidc-operator/Chart.yaml")"
revision="${REVISION:-$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)}"

# --- the base
if docker image inspect "$official" >/dev/null 2>&1; then
  base="$official"
  echo "base: $base (present in the daemon)"
elif timeout 20 docker pull -q "$official" >/dev/null 2>&1; then
  base="$official"
  echo "base: $base (pulled)"
else
  # shellcheck source=../lib/gobuild.sh
  source "$repo/hack/lib/gobuild.sh"
  # shellcheck source=../lib/debian-image.sh
  source "$repo/hack/lib/debian-image.sh"
  debian_image python python3 python3-pip ca-certificates
  base="$image"
  echo "base: $base (Debian 12, built here: $official cannot be pulled)"
fi

# --- proxy trust, for the build stage only
extra_ca=""
shopt -s nullglob
for cert in /usr/local/share/ca-certificates/*.crt; do
  extra_ca+="$(cat "$cert")"$'\n'
done
shopt -u nullglob

# One build at a time per checkout: the prune below must not meet another build's newest
# (still untagged) intermediate image.
mkdir -p "$repo/.local"
exec 9>"$repo/.local/image-build.lock"
flock 9

# --- build: the build stage under its own tag, then the image (the build stage from cache)
common=(--network host --build-arg "PYTHON_IMAGE=$base" --build-arg "EXTRA_CA_CERTS=$extra_ca")
start=$SECONDS
docker build "${common[@]}" -f "$repo/Dockerfile" --target build -t "$build_stage" "$context"
docker build "${common[@]}" \
  --build-arg "VERSION=$version" \
  --build-arg "REVISION=$revision" \
  --build-arg "SOURCE=$source_url" \
  -f "$repo/Dockerfile" -t "$target" -t "eks-oidc-operator:$version" "$context"
echo "built $target and eks-oidc-operator:$version in $((SECONDS - start))s"

# What a rebuild left untagged (earlier builds of this Dockerfile): dangling images with its label.
docker image prune -f --filter "label=$label" >/dev/null

# --- what the image weighs
size="$(docker image inspect -f '{{.Size}}' "$target")"
echo "size: $(numfmt --to=iec-i --suffix=B "$size") ($size bytes; base $base)"
echo "largest layers:"
docker history --no-trunc --human=false --format '{{.Size}}\t{{.CreatedBy}}' "$target" |
  sort -t $'\t' -k1,1 -rn | sed -n 1,5p |
  while IFS=$'\t' read -r bytes created; do
    created="${created#/bin/sh -c }"
    created="${created#\#(nop) }"
    created="${created#"${created%%[![:space:]]*}"}"  # leading blanks
    created="${created:-(the base, $base)}"
    printf '  %8s  %.90s\n' "$(numfmt --to=iec-i --suffix=B "$bytes")" "$created"
  done
