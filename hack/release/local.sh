#!/usr/bin/env bash
# make release-local: the release workflow's steps (.github/workflows/release.yaml), run here
# against a local OCI registry (hack/release/registry.sh: CNCF distribution on 127.0.0.1).
#
#   version   chart version = appVersion = the Python package's = the newest CHANGELOG entry,
#             moved since the last release tag, and not in the registry already
#   image     the operator image (make image) pushed; its digest is what is signed and installed
#   sbom      a CycloneDX SBOM of the image's Python environment, made inside the image
#   sign      cosign: the image signed and the SBOM attested to it (a key pair made for this
#             run: keyless signing needs Sigstore's public services, out of reach here)
#   verify    both verified against the public key, and a wrong key shown to fail
#   chart     helm package + helm push (OCI), then signed and verified like the image
#   install   (--install) the chart from the registry into the kind cluster, the image pulled
#             from the registry by digest (hack/release/kind-mirror.sh; no `kind load`)
#
# A failing step stops the run naming the step and what to do, and deletes what this run had
# pushed already: nothing is left half-published. What was published is written to
# .local/release/release.env (the kind tier installs from it).
# Env: IMAGE (default eks-oidc-operator:dev), KIND_CLUSTER (default eks-oidc), RELEASE_OUT (default
# .local/release), RELEASE_REGISTRY_NAME (the registry container, default eks-oidc-registry),
# COSIGN (default .local/bin/cosign).
set -eEuo pipefail  # -E: the ERR trap fires inside functions too
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../lib/docker.sh
source "$repo/hack/lib/docker.sh"
install=""
[[ "${1:-}" == --install ]] && install=1
image="${IMAGE:-eks-oidc-operator:dev}"
cluster="${KIND_CLUSTER:-eks-oidc}"
out="${RELEASE_OUT:-$repo/.local/release}"
bin="$repo/.local/bin"
helm="$bin/helm"
cosign="${COSIGN:-$bin/cosign}"
mkdir -p "$out"
export COSIGN_PASSWORD=""  # the run's own throwaway key
cosign_registry=(--allow-http-registry --allow-insecure-registry)

log="$out/release.log"
: > "$log"
quiet() { "$@" >>"$log" 2>&1; }  # a tool's chatter goes to the log; a failure shows its tail
step="" hint="" published=()
begin() { step="$1" hint="$2"; echo "--- $step"; }
unpublish() {  # delete the manifests this run pushed (the registry allows deletes)
  local ref
  for ref in "${published[@]}"; do
    curl --noproxy '*' -fsS -X DELETE "http://${ref%%/*}/v2/$(cut -d/ -f2- <<< "${ref%@*}")/manifests/${ref#*@}" >/dev/null 2>&1 || true
  done
}
failed() {
  echo "release-local: step '$step' failed: $hint" >&2
  [[ -s "$log" ]] && { echo "last lines of $log:" >&2; tail -n 5 "$log" >&2; }
  if (( ${#published[@]} )); then
    unpublish
    echo "release-local: deleted what this run had pushed (${#published[@]} manifest(s)): nothing half-published" >&2
  fi
}
trap failed ERR

begin version "make chart, app, package and CHANGELOG agree on a version that is not released yet"
chart_file="$repo/charts/eks-oidc-operator/Chart.yaml"
version="$(sed -n -E 's/^version: *"?([^"[:space:]]+)"?.*/\1/p' "$chart_file")"
app_version="$(sed -n -E 's/^appVersion: *"?([^"[:space:]]+)"?.*/\1/p' "$chart_file")"
package_version="$(sed -n -E '0,/^version = /s/^version = "([^"]+)"/\1/p' "$repo/pyproject.toml")"
changelog_version="$(sed -n -E '0,/^## /s/^## ([^ ]+).*/\1/p' "$repo/CHANGELOG.md")"
if [[ "$version" != "$app_version" || "$version" != "$package_version" || "$version" != "$changelog_version" ]]; then
  hint="versions disagree: chart $version, appVersion $app_version, pyproject $package_version, CHANGELOG $changelog_version: set one version in all four"
  false
fi
last_tag="$(git -C "$repo" describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null || true)"
if [[ -n "$last_tag" && "v$version" == "$last_tag" ]] && ! git -C "$repo" diff --quiet "$last_tag" -- charts operator crds Dockerfile pyproject.toml uv.lock; then
  hint="the chart or the operator changed since $last_tag but the version is still $version: move it (Chart.yaml, pyproject.toml, __version__) and add a CHANGELOG entry with upgrade notes"
  false
fi
echo "version $version (last release tag: ${last_tag:-none})"

begin tools "the Go toolchain builds registry and cosign (hack/release/tools.sh); see $log"
quiet bash "$here/tools.sh" registry cosign

begin registry "the local registry did not start: see hack/release/registry.sh (make docker-up first)"
registry="$(bash "$here/registry.sh" up | sed -n 's/^registry //p')"
repository="$registry/eks-oidc-operator/eks-oidc-operator"
chart_repo="oci://$registry/charts"
hint="version $version is published already ($chart_repo/eks-oidc-operator): move the version and add a CHANGELOG entry"
if "$helm" show chart "$chart_repo/eks-oidc-operator" --version "$version" --plain-http >/dev/null 2>&1; then false; fi
echo "registry $registry"

begin image "make image builds $image; then run this again"
docker image inspect "$image" >/dev/null
built_version="$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image")"
[[ "$built_version" == "$version" ]] || { hint="$image is version $built_version, not $version: rebuild it (make image)"; false; }
docker tag "$image" "$repository:$version"
hint="docker push to $registry failed: is the registry up (hack/release/registry.sh up)?"
docker push -q "$repository:$version" >/dev/null
digest="$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$repository:$version" | sed -n "s|^$repository@||p" | head -n 1)"
[[ -n "$digest" ]] || { hint="the registry gave no digest for $repository:$version"; false; }
published+=("$repository@$digest")
echo "image $repository:$version@$digest"

begin sbom "the SBOM tool (hack/release/sbom-requirements.txt) installs from the package index, or the SBOM lacks the operator: see $log"
quiet bash "$here/sbom.sh" "$image" "$out/sbom.cdx.json"
echo "sbom $out/sbom.cdx.json ($(grep -o '"bom-ref"' "$out/sbom.cdx.json" | wc -l) components)"

begin sign "cosign could not sign or attest in $registry (see $log)"
rm -f "$out/cosign.key" "$out/cosign.pub"
(cd "$out" && "$cosign" generate-key-pair >/dev/null 2>&1)
quiet "$cosign" sign -y --key "$out/cosign.key" --tlog-upload=false "${cosign_registry[@]}" "$repository@$digest"
quiet "$cosign" attest -y --key "$out/cosign.key" --tlog-upload=false "${cosign_registry[@]}" \
  --type cyclonedx --predicate "$out/sbom.cdx.json" "$repository@$digest"
echo "signed and attested $repository@$digest"

begin verify "the signature or the SBOM attestation of $repository@$digest does not verify against $out/cosign.pub: do not publish; sign again"
verify=(--key "$out/cosign.pub" --insecure-ignore-tlog "${cosign_registry[@]}")
quiet "$cosign" verify "${verify[@]}" "$repository@$digest"
"$cosign" verify-attestation "${verify[@]}" --type cyclonedx "$repository@$digest" > "$out/attestation.json" 2>>"$log"
# And verification can fail: another key must not verify it.
(cd "$out" && rm -f other.key other.pub && "$cosign" generate-key-pair --output-key-prefix other >/dev/null 2>&1)
if "$cosign" verify --key "$out/other.pub" --insecure-ignore-tlog "${cosign_registry[@]}" "$repository@$digest" >/dev/null 2>&1; then
  hint="a key that did not sign verified the image: cosign verification is broken here"
  false
fi
echo "verified $repository@$digest (signature and cyclonedx attestation; a wrong key refused)"

begin chart "helm package or helm push to $chart_repo failed (see $log)"
rm -f "$out"/eks-oidc-operator-*.tgz
quiet "$helm" package "$repo/charts/eks-oidc-operator" -d "$out"
pushed="$("$helm" push "$out/eks-oidc-operator-$version.tgz" "$chart_repo" --plain-http 2>&1)"
chart_digest="$(sed -n 's/^Digest: *//p' <<< "$pushed")"
[[ -n "$chart_digest" ]] || { hint="helm push printed no digest: $pushed"; false; }
published+=("$registry/charts/eks-oidc-operator@$chart_digest")
begin chart-sign "cosign could not sign or verify the chart $registry/charts/eks-oidc-operator@$chart_digest"
quiet "$cosign" sign -y --key "$out/cosign.key" --tlog-upload=false "${cosign_registry[@]}" \
  "$registry/charts/eks-oidc-operator@$chart_digest"
quiet "$cosign" verify "${verify[@]}" "$registry/charts/eks-oidc-operator@$chart_digest"
echo "chart $chart_repo/eks-oidc-operator:$version@$chart_digest (signed, verified)"

cat > "$out/release.env" <<ENV
VERSION=$version
REGISTRY=$registry
IMAGE_REPOSITORY=$repository
IMAGE_DIGEST=$digest
CHART=$chart_repo/eks-oidc-operator
CHART_DIGEST=$chart_digest
PUBLIC_KEY=$out/cosign.pub
SBOM=$out/sbom.cdx.json
ENV
published=()  # from here on, a failure does not unpublish: the release is complete

if [[ -n "$install" ]]; then
  begin install "make kind-up first; the kind cluster $cluster must be up and the chart's install must go Ready (kubectl -n eks-oidc-system get pods)"
  bash "$here/kind-mirror.sh" "$cluster"
  kubeconfig="$repo/.local/kind.kubeconfig"
  values="$out/kind-values.json"
  cat > "$values" <<JSON
{
  "global": {"imageRegistry": "$registry"},
  "image": {"digest": "$digest"},
  "settings": {"issuerCheck": "Skip"},
  "tenancy": {"rules": [{"name": "demo", "namespaces": ["default"], "operatorIdentity": true}]},
  "operator": {"region": "us-west-2", "eksEndpointUrl": "http://eks-simulator.eks-simulator.svc:4566",
               "extraEnv": {"AWS_ACCESS_KEY_ID": "AKIDRELEASELOCAL", "AWS_SECRET_ACCESS_KEY": "release-local"}}
}
JSON
  "$helm" upgrade --install eks-oidc-operator "$chart_repo/eks-oidc-operator" --version "$version" \
    --plain-http --kubeconfig "$kubeconfig" -n eks-oidc-system --create-namespace \
    -f "$values" --wait --timeout 180s >/dev/null
  pulled="$(KUBECONFIG="$kubeconfig" "$bin/kubectl" -n eks-oidc-system get pods \
    -l app.kubernetes.io/instance=eks-oidc-operator -o jsonpath='{.items[*].status.containerStatuses[*].imageID}')"
  hint="the pods run $pulled, not $repository@$digest"
  grep -q "$digest" <<< "$pulled"
  echo "installed $chart_repo/eks-oidc-operator $version into kind cluster $cluster; pods run $repository@$digest"
fi
echo "release-local: done ($out/release.env)"
