"""``eks-oidc-operator crd --apply``: bring the installed CRD up to this build's.

The chart's pre-install and pre-upgrade hook runs it (Helm installs a chart's ``crds/`` only
when the CRD is missing, and never upgrades it). Server-side apply of the CRD the models
generate, so the schema always matches the code that serves it. It only patches: a missing CRD
is an install that skipped it (``--skip-crds``, ``crds.install=false``), which it reports rather
than creates, so its role needs no cluster-wide ``create``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Final

from eks_oidc_operator import constants, kubeapi

FIELD_MANAGER: Final = "eks-oidc-operator"


class CrdUpgradeError(Exception):
    """The CRD could not be brought up to date; the message says what to do."""


def apply(api: kubeapi.KubeApi, crd: dict[str, Any]) -> str:
    """Apply ``crd`` over the installed one; a line saying what changed."""
    try:
        before = api.request("GET", constants.CRD_PATH)
    except kubeapi.ApiError as error:
        if error.status == 404:
            raise CrdUpgradeError(
                f"the CRD {constants.CRD_NAME} is not installed, so there is nothing to upgrade: "
                "install it (kubectl apply --server-side -f crds/, or helm install without "
                "--skip-crds), or set crds.upgrade=false if another tool manages it"
            ) from error
        raise CrdUpgradeError(f"reading the CRD {constants.CRD_NAME}: {error}") from error
    if before.get("metadata", {}).get("deletionTimestamp"):
        raise CrdUpgradeError(
            f"the CRD {constants.CRD_NAME} is being deleted: wait until it is gone, then install"
        )
    query = urllib.parse.urlencode({"fieldManager": FIELD_MANAGER, "force": "true"})
    try:
        after = api.request(
            "PATCH",
            f"{constants.CRD_PATH}?{query}",
            crd,
            content_type="application/apply-patch+yaml",
        )
    except kubeapi.ApiError as error:
        raise CrdUpgradeError(f"applying the CRD {constants.CRD_NAME}: {error}") from error
    was, now = before["metadata"].get("generation"), after["metadata"].get("generation")
    change = "unchanged" if was == now else f"upgraded (generation {was} -> {now})"
    return f"CRD {constants.CRD_NAME} {change}, versions {_versions(after)}\n"


def _versions(crd: dict[str, Any]) -> str:
    return ", ".join(v["name"] for v in crd.get("spec", {}).get("versions", []))
