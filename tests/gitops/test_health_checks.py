"""The Argo CD Lua health check and kstatus (Flux, kubectl wait) read the statuses the operator
writes as intended. Statuses come from the operator's own condition code, not hand-written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import lupa
import pytest

from eks_oidc_operator.models import OidcIdentityProviderStatus, Phase
from eks_oidc_operator.reconcile import conditions
from tests.support.kube import REPO

SCRIPT = (REPO / "docs" / "gitops" / "argocd-health.lua").read_text()
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def _object(
    shape: list[conditions.ConditionSpec] | None, *, generation: int = 2, observed: int = 2
) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"name": "x", "generation": generation}}
    if shape is not None:
        status = OidcIdentityProviderStatus(
            observed_generation=observed,
            phase=Phase.ACTIVE,
            conditions=conditions.apply_conditions([], shape, now=NOW, generation=observed),
        )
        body["status"] = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


def argocd_health(obj: dict[str, Any]) -> dict[str, str]:
    """Run the Lua script the way Argo CD does: ``obj`` global, returns a table."""
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT)
    return {"status": str(result["status"]), "message": str(result["message"])}


def kstatus(obj: dict[str, Any]) -> str:
    """kstatus's rules for a custom resource (sigs.k8s.io/cli-utils/pkg/kstatus)."""
    status = obj.get("status", {})
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return "InProgress"
    by_type = {c["type"]: c["status"] for c in status.get("conditions", [])}
    if by_type.get("Reconciling") == "True":
        return "InProgress"
    if by_type.get("Stalled") == "True":
        return "Failed"
    return "Current"


CASES = {
    "ready": (_object(conditions.ready("Active", "config ACTIVE")), "Healthy", "Current"),
    "associating": (
        _object(conditions.reconciling("Associating", "EKS update u in progress")),
        "Progressing",
        "InProgress",
    ),
    "stalled": (
        _object(conditions.stalled("InvalidParameterException", "bad issuer")),
        "Degraded",
        "Failed",
    ),
    "spec changed, not yet observed": (
        _object(conditions.ready("Active", "config ACTIVE"), generation=3, observed=2),
        "Progressing",
        "InProgress",
    ),
    "no status yet": (_object(None), "Progressing", "InProgress"),
}


@pytest.mark.parametrize(("obj", "argo", "flux"), CASES.values(), ids=CASES.keys())
def test_argo_cd_and_kstatus_agree_with_the_operator(
    obj: dict[str, Any], argo: str, flux: str
) -> None:
    assert argocd_health(obj)["status"] == argo
    assert kstatus(obj) == flux
    # Once the generation is observed, kubectl wait --for=condition=Ready succeeds exactly
    # when kstatus says Current. (Before, Ready may still describe the previous spec; the
    # operator replaces it within one pass, and kstatus already says InProgress.)
    status = obj.get("status", {})
    if status.get("observedGeneration") == obj["metadata"]["generation"]:
        ready = [c for c in status["conditions"] if c["type"] == "Ready"]
        assert (ready[0]["status"] == "True") == (flux == "Current")


def test_a_degraded_object_shows_eks_code_and_words_in_argo_cd() -> None:
    health = argocd_health(CASES["stalled"][0])
    assert health["message"] == "InvalidParameterException: bad issuer"
