"""The checkout this package belongs to, found by a marker file (no import-path edits).

The package is installed editable from ``<repo>/hack/testing``, so the checkout is normally an
ancestor of this file. A non-editable install (a copy in site-packages) falls back to the
working directory and its parents.
"""

from __future__ import annotations

from pathlib import Path

MARKER = Path("hack") / "controlplane" / "build.sh"
"""A file only this project's checkout has (the control plane's build script)."""


class CheckoutNotFoundError(RuntimeError):
    """Neither this file nor the working directory is inside an eks-oidc-operator checkout."""


def find_repo(*starts: Path) -> Path:
    """The nearest directory at or above one of ``starts`` (in order) that holds ``MARKER``."""
    for start in (path.resolve() for path in starts):
        for candidate in (start, *start.parents):
            if (candidate / MARKER).is_file():
                return candidate
    msg = (
        f"no eks-oidc-operator checkout (a directory with {MARKER}) above "
        f"{', '.join(str(s) for s in starts)}"
    )
    raise CheckoutNotFoundError(msg)


REPO = find_repo(Path(__file__).parent, Path.cwd())
BUILD_SCRIPT = REPO / MARKER
"""Builds (or finds in the cache) kube-apiserver, etcd, kubectl and helm; see its header."""
CRD_FILE = REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml"
CHART = REPO / "charts" / "eks-oidc-operator"
