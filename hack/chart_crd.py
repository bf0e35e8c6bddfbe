"""Write the chart's copy of the CRD (charts/eks-oidc-operator/crds/) from crds/.

Helm installs a chart's ``crds/`` when the CRD is missing and never upgrades or deletes it:
no uninstall can delete the CRD (which would delete every OidcIdentityProvider object with
it). Upgrades are the chart's ``crds.upgrade`` hook (``eks-oidc-operator crd --apply``).

Usage: ``python hack/chart_crd.py [--check]`` (``make crds`` runs it; ``make lint`` and a test
check it).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml"
TARGET = REPO / "charts" / "eks-oidc-operator" / "crds" / SOURCE.name
HEAD = "# A copy of crds/ written by hack/chart_crd.py (`make crds`): do not edit by hand.\n"


def copy(crd: str) -> str:
    """The chart's copy of the CRD text ``crd`` (as in crds/)."""
    body = "\n".join(line for line in crd.splitlines() if not line.startswith("#")) + "\n"
    return HEAD + body


def main(argv: list[str]) -> int:
    fresh = copy(SOURCE.read_text())
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != fresh:
            print(f"{TARGET.relative_to(REPO)} is stale: run `make crds`")
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
