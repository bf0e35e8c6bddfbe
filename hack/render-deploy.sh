#!/usr/bin/env bash
# Render deploy/ (plain manifests for `kubectl apply -k`) from the Helm chart, so the two
# install paths never drift apart. A test re-renders and compares.
#   deploy/crds/  the CRD alone (a copy of crds/): applied first, and never deleted with the
#                 operator, since deleting it deletes every OidcIdentityProvider object;
#   deploy/       the operator: `kubectl delete -k deploy/` removes it and leaves the CRD.
# No CRD upgrade hook here (kubectl runs no Helm hooks): applying deploy/crds/ upgrades it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
helm="${HELM:-$here/.local/bin/helm}"
out="${1:-$here/deploy}"
mkdir -p "$out/crds"
{
  echo "# Rendered from charts/eks-oidc-operator by hack/render-deploy.sh: do not edit by hand."
  "$helm" template eks-oidc-operator "$here/charts/eks-oidc-operator" \
    --namespace eks-oidc-system --set crds.upgrade=false
} > "$out/eks-oidc-operator.yaml"
{
  echo "# A copy of crds/ written by hack/render-deploy.sh: do not edit by hand."
  grep -v '^#' "$here/crds/oidcidentityproviders.eksoidc.io.yaml"
} > "$out/crds/oidcidentityproviders.eksoidc.io.yaml"
