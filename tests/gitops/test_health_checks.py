"""The Argo CD Lua health check and kstatus (Flux, kubectl wait) read the statuses the operator
writes as intended. Statuses come from the operator's own condition code, not hand-written, and
objects are seen as the API server serves them (with the CRD's defaults applied)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import lupa.lua51
import pytest
import yaml

from eks_oidc_operator.models import ConditionStatus, OidcIdentityProviderStatus, Phase
from eks_oidc_operator.reconcile import conditions
from eks_oidc_testing.paths import REPO

SCRIPT = (REPO / "docs" / "gitops" / "argocd-health.lua").read_text()
CRD = yaml.safe_load((REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml").read_text())
NOW = datetime(2026, 11, 28, tzinfo=UTC)

Shape = Callable[[str, str], list[conditions.ConditionSpec]]
# The only three condition sets the reconciler writes (reconciler.py picks one per pass).
SHAPES: dict[str, tuple[Shape, str, str]] = {
    "ready": (conditions.ready, "Healthy", "Current"),
    "reconciling": (conditions.reconciling, "Progressing", "InProgress"),
    "stalled": (conditions.stalled, "Degraded", "Failed"),
}


def _status_default() -> Any:
    schema = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema["properties"]["status"].get("default")


def served(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as a client reads it: the API server applies the CRD's ``default``s on read,
    so a ``status`` default (if the CRD has one) shows up before the operator writes status."""
    obj = copy.deepcopy(obj)
    default = _status_default()
    if "status" not in obj and default is not None:
        obj["status"] = copy.deepcopy(default)
    return obj


def _object(
    history: list[list[conditions.ConditionSpec]] | None,
    *,
    generation: int = 2,
    observed: int = 2,
) -> dict[str, Any]:
    """An object whose status went through ``history`` (each pass one shape), or none yet."""
    body: dict[str, Any] = {"metadata": {"name": "x", "generation": generation}}
    if history is not None:
        found: list[Any] = []
        for wanted in history:
            found = conditions.apply_conditions(found, wanted, now=NOW, generation=observed)
        status = OidcIdentityProviderStatus(
            observed_generation=observed, phase=Phase.ACTIVE, conditions=found
        )
        body["status"] = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    return served(body)


def argocd_health(obj: dict[str, Any]) -> dict[str, str]:
    """Run the Lua script the way Argo CD does: ``obj`` global, returns a table."""
    # Lua 5.1, the language of gopher-lua, which Argo CD embeds (lupa's default is newer).
    lua = lupa.lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT)
    return {"status": str(result["status"]), "message": str(result["message"])}


def kstatus(obj: dict[str, Any]) -> str:
    """kstatus's ``Compute`` for a kind without built-in rules, as sigs.k8s.io/cli-utils
    v0.37.2 (pkg/kstatus/status) has it, which Flux uses: checkGenericProperties (deletion,
    then generations, which it compares only when ``observedGeneration`` is present, then
    Reconciling / Stalled), then checkReadyCondition (Ready True: Current; False or Unknown:
    InProgress), else Current. So an object without status is Current: hence the CRD's
    ``observedGeneration: 0`` default."""
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = obj.get("status") or {}
    generation = obj["metadata"].get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        return "InProgress"
    found = status.get("conditions", [])
    for condition in found:
        if condition["type"] == "Reconciling" and condition["status"] == "True":
            return "InProgress"
        if condition["type"] == "Stalled" and condition["status"] == "True":
            return "Failed"
    return _ready_fallback(found)


def _ready_fallback(found: list[dict[str, Any]]) -> str:
    """checkReadyCondition, and Current when it cannot decide."""
    for condition in found:
        if condition["type"] == "Ready" and condition["status"] in ("False", "Unknown"):
            return "InProgress"
        if condition["type"] == "Ready" and condition["status"] == "True":
            return "Current"
    return "Current"


def test_a_ready_false_object_without_reconciling_is_in_progress_for_kstatus() -> None:
    # The Ready fallback: even a status that only says Ready=False keeps Flux waiting.
    obj = _object(None)
    obj["status"] = {
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "False", "reason": "X", "message": "m"}],
    }
    assert kstatus(obj) == "InProgress"


def _ready_is_true(obj: dict[str, Any]) -> bool:
    """What ``kubectl wait --for=condition=Ready`` waits for."""
    found = conditions.find(
        OidcIdentityProviderStatus.model_validate(obj["status"]).conditions, "Ready"
    )
    return found is not None and found.status == "True"


@pytest.mark.parametrize(
    ("before", "after"), list(itertools.product([None, *SHAPES], SHAPES)), ids=str
)
def test_argo_cd_kstatus_and_kubectl_wait_agree_on_every_status_the_operator_writes(
    before: str | None, after: str
) -> None:
    # Every transition between the shapes, as set_condition upserts them: a leftover
    # Stalled=True or Reconciling=True from the previous pass would show up here.
    history = [SHAPES[before][0]("Before", "earlier pass")] if before else []
    shape, argo, flux = SHAPES[after]
    obj = _object([*history, shape("Reason", "what happened")])
    assert argocd_health(obj)["status"] == argo
    assert kstatus(obj) == flux
    # At the observed generation, kubectl wait --for=condition=Ready succeeds exactly when
    # kstatus says Current: Flux and kubectl wait give the same answer.
    assert _ready_is_true(obj) == (flux == "Current")


@pytest.mark.parametrize("shape", SHAPES)
def test_a_spec_change_not_yet_observed_is_in_progress_everywhere(shape: str) -> None:
    # Before the operator's next pass, Ready may still describe the previous spec; the
    # generation check is what keeps Flux and Argo CD from reporting it as done.
    obj = _object([SHAPES[shape][0]("Active", "config ACTIVE")], generation=3, observed=2)
    assert kstatus(obj) == "InProgress"
    assert argocd_health(obj)["status"] == "Progressing"


def test_a_new_object_is_progressing_in_argo_cd() -> None:
    assert argocd_health(_object(None))["status"] == "Progressing"


def test_a_new_object_is_in_progress_for_kstatus_before_the_operator_writes_status() -> None:
    # Between `kubectl apply` and the operator's first pass: the CRD's status default
    # (observedGeneration 0) keeps kstatus from calling the object Current.
    assert kstatus(_object(None)) == "InProgress"


def test_a_degraded_object_shows_eks_code_and_words_in_argo_cd() -> None:
    obj = _object([conditions.stalled("InvalidParameterException", "bad issuer")])
    health = argocd_health(obj)
    assert health == {"status": "Degraded", "message": "InvalidParameterException: bad issuer"}


def test_a_progressing_object_says_why_in_argo_cd() -> None:
    obj = _object([conditions.reconciling("ClusterUpdateInProgress", "EKS is busy")])
    assert argocd_health(obj)["message"] == "ClusterUpdateInProgress: EKS is busy"


def test_the_argo_cd_config_map_in_the_docs_holds_the_tested_script() -> None:
    docs = (REPO / "docs" / "gitops.md").read_text()
    snippet = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    config_map = yaml.safe_load(snippet)
    assert config_map["metadata"] == {"name": "argocd-cm", "namespace": "argocd"}
    key = "resource.customizations.health.eksoidc.io_OidcIdentityProvider"
    assert config_map["data"] == {key: SCRIPT}


def test_the_flux_examples_wait_for_our_objects_longer_than_an_association() -> None:
    docs = list(
        yaml.safe_load_all((REPO / "docs" / "gitops" / "flux-kustomization.yaml").read_text())
    )
    assert {d["kind"] for d in docs} == {"Kustomization"}
    for doc in docs:
        spec = doc["spec"]
        # A replacement is two EKS updates of 15-40 minutes each where it must delete first:
        # a shorter timeout fails healthy syncs.
        assert spec["timeout"] == "90m"
        checks = spec.get("healthChecks", [])
        assert spec.get("wait") is True or any(
            c["apiVersion"] == "eksoidc.io/v1alpha1" and c["kind"] == "OidcIdentityProvider"
            for c in checks
        )
    assert any("healthChecks" in d["spec"] for d in docs)
    assert any(d["spec"].get("wait") for d in docs)


def test_a_paused_object_is_suspended_for_argo_cd_whatever_it_was_before() -> None:
    for shape, _, _ in SHAPES.values():
        paused = conditions.ConditionSpec("Paused", ConditionStatus.TRUE, "Paused", "m")
        obj = _object([[*shape("Active", "m"), paused]], generation=3, observed=2)
        assert argocd_health(obj) == {"status": "Suspended", "message": "m"}
