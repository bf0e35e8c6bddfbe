#!/usr/bin/env bash
# Render deploy/ (plain manifests for `kubectl apply -k deploy/`) from the Helm chart, so the
# two install paths never drift apart. A test re-renders and compares.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
helm="${HELM:-$here/.local/bin/helm}"
out="${1:-$here/deploy}"
{
  echo "# Rendered from charts/eks-oidc-operator by hack/render-deploy.sh: do not edit by hand."
  "$helm" template eks-oidc-operator "$here/charts/eks-oidc-operator" \
    --namespace eks-oidc-system
} > "$out/eks-oidc-operator.yaml"
