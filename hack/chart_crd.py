"""Write the chart's CRD template from crds/ (the CRD generated from the models).

The CRD is a template, not a file under the chart's ``crds/``: Helm installs ``crds/`` once and
never upgrades it, so a new field would silently never reach clusters that upgrade the chart.
As a template it is upgraded with the release (``crds.enabled``) and, by default, kept when the
release is uninstalled (``crds.keep``: ``helm.sh/resource-policy: keep``), since deleting the
CRD deletes every OidcIdentityProvider object with it.

Usage: ``python hack/chart_crd.py [--check]`` (``make crds`` runs it; a test checks it).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml"
TARGET = REPO / "charts" / "eks-oidc-operator" / "templates" / "crd.yaml"

HEAD = """{{- if .Values.crds.enabled }}
# Generated from crds/ by hack/chart_crd.py (`make crds`): do not edit by hand.
"""
METADATA = """metadata:
  name: oidcidentityproviders.eksoidc.io
  labels:
    {{- include "eks-oidc-operator.labels" . | nindent 4 }}
  {{- if .Values.crds.keep }}
  annotations:
    # Uninstalling the release must not delete the CRD: that would delete every object.
    helm.sh/resource-policy: keep
  {{- end }}
"""


def template(crd: str) -> str:
    """The chart template of the CRD text ``crd`` (as in crds/)."""
    body = "\n".join(line for line in crd.splitlines() if not line.startswith("#")) + "\n"
    if "{{" in body or "}}" in body:
        msg = "the CRD holds template delimiters; they would need escaping"
        raise ValueError(msg)
    plain_metadata = "metadata:\n  name: oidcidentityproviders.eksoidc.io\n"
    if plain_metadata not in body:
        msg = "unexpected CRD metadata"
        raise ValueError(msg)
    return HEAD + body.replace(plain_metadata, METADATA, 1) + "{{- end }}\n"


def main(argv: list[str]) -> int:
    fresh = template(SOURCE.read_text())
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != fresh:
            print("charts/eks-oidc-operator/templates/crd.yaml is stale: run `make crds`")
            return 1
        return 0
    TARGET.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
