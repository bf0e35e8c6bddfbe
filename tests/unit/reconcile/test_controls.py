"""The per-object controls: pause, observe only, and "reconcile now", through whole passes.

The rule table (test_rules.py) says which rule recognises each situation; these tests follow
what the passes around those rules do: the calls made (none, for a pause or an observer), what
status keeps, the events posted once, the cluster gate given up, and the switches between the
policies under the adoption rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eks_oidc_operator import constants
from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.reconcile.observation import Checks
from eks_oidc_operator.reconcile.plan import Plan
from eks_oidc_operator.runtime.pacing.gate import ClusterGate
from eks_oidc_operator.runtime.reconciler import reconcile
from tests.support.factories import ARN, FakeEks, config, ctx, obj, ours, update

PAUSED = {constants.PAUSED_ANNOTATION: "true"}
KEY = ("eu-west-1", "prod")
MUTATING = {
    "AssociateIdentityProviderConfig",
    "DisassociateIdentityProviderConfig",
    "TagResource",
    "UntagResource",
}


def _run(
    resource: OidcIdentityProvider,
    eks: FakeEks,
    gate: ClusterGate | None = None,
    wake: Callable[[], None] = lambda: None,
) -> Plan:
    return reconcile(
        resource, ctx(), lambda: eks, gate or ClusterGate(), Checks(may_adopt=True), wake
    )


def _again(resource: OidcIdentityProvider, plan: Plan, **changes: Any) -> OidcIdentityProvider:
    """``resource`` after ``plan`` was written, with metadata or spec ``changes``."""
    meta = resource.metadata.model_copy(update=changes.pop("metadata", {}))
    spec = resource.spec.model_copy(update=changes)
    return resource.model_copy(update={"status": plan.status, "metadata": meta, "spec": spec})


def _condition(plan: Plan, type_: str) -> Any:
    return next((c for c in plan.status.conditions if c.type == type_), None)


def _no_client() -> FakeEks:
    raise AssertionError("a paused pass asked for an EKS client")


# --------------------------------------------------------------------- pause


def test_a_pause_makes_no_call_and_changes_nothing_but_its_condition() -> None:
    in_flight = ours(
        update={"id": "u-1", "status": "InProgress"}, configStatus="CREATING", phase="Associating"
    )
    resource = obj(status=in_flight, annotations=PAUSED)
    plan = reconcile(resource, ctx(), _no_client, ClusterGate(), Checks(may_adopt=True))
    paused = _condition(plan, "Paused")
    assert (paused.status, paused.reason) == ("True", "Paused")
    without = [c for c in plan.status.conditions if c.type != "Paused"]
    assert plan.status.model_copy(update={"conditions": without}) == resource.status
    assert plan.calls == ()
    assert (plan.retry_after, plan.poll_after) == (None, None)
    assert [e.reason for e in plan.events] == ["Paused"]
    # The next paused pass is no news: nothing to write, nothing to post.
    again = reconcile(
        _again(resource, plan), ctx(), _no_client, ClusterGate(), Checks(may_adopt=True)
    )
    assert again.status == plan.status
    assert again.events == ()


def test_a_value_other_than_false_pauses_and_says_how_it_was_read() -> None:
    for value, paused in (("yes", True), ("True", True), ("false", False), ("False", False)):
        resource = obj(status=ours(), annotations={constants.PAUSED_ANNOTATION: value})
        plan = _run(resource, FakeEks(config=config()))
        assert (plan.rule == "paused") is paused, value
    plan = _run(obj(annotations={constants.PAUSED_ANNOTATION: "yes"}), FakeEks())
    assert 'its value "yes" is read as "true"' in _condition(plan, "Paused").message


def test_a_paused_deletion_waits_saying_so_and_looks_again_at_the_poll_pace() -> None:
    resource = obj(status=ours(), deleting=True, annotations=PAUSED)
    plan = reconcile(resource, ctx(), _no_client, ClusterGate(), Checks(may_adopt=True))
    assert not plan.release
    assert plan.retry_after == ctx().timings.poll_max
    assert "deletion waits" in _condition(plan, "Paused").message


def test_resuming_drops_the_condition_posts_once_and_picks_up_the_update() -> None:
    in_flight = {"update": {"id": "u-1", "status": "InProgress"}, "phase": "Associating"}
    resource = obj(status=in_flight, annotations=PAUSED)
    paused = reconcile(resource, ctx(), _no_client, ClusterGate(), Checks(may_adopt=True))
    eks = FakeEks(updates={"u-1": update("Successful")}, config=config())
    resumed = _run(_again(resource, paused, metadata={"annotations": {}}), eks)
    assert _condition(resumed, "Paused") is None
    assert resumed.events[0].reason == "Resumed"
    assert resumed.status.phase == "Active"
    assert "AssociateIdentityProviderConfig" not in eks.calls


def test_a_paused_object_gives_up_its_turn_and_its_place_in_the_queue() -> None:
    gate = ClusterGate()
    in_flight = {"update": {"id": "u-1", "status": "InProgress"}, "phase": "Associating"}
    holder = obj(status=in_flight, annotations=PAUSED)
    assert gate.acquire(KEY, holder.metadata.uid or "") is None
    _run(holder, FakeEks(), gate=gate)
    assert gate.holder(KEY, "someone-else") is None, "a pause must not block the cluster"
    # A queued object that is paused leaves the queue: it is not handed the cluster.
    assert gate.acquire(KEY, "another") is None
    woken: list[str] = []
    queued = _run(obj(), FakeEks(), gate=gate, wake=lambda: woken.append("woken"))
    assert queued.verdict.queued
    paused = obj(annotations=PAUSED).model_copy(update={"status": queued.status})
    _run(paused, FakeEks(), gate=gate, wake=lambda: woken.append("woken"))
    gate.release(KEY, "another")
    assert woken == []
    assert gate.holder(KEY, "someone-else") is None


# ------------------------------------------------------------- observe only


def test_observing_reads_one_config_and_records_nothing_as_its_own() -> None:
    eks = FakeEks(config=config(owner=None))
    plan = _run(obj(managementPolicy="Observe"), eks)
    assert eks.calls == ["DescribeIdentityProviderConfig"]
    assert plan.status.phase == "Active"
    assert plan.status.identity_provider_config_arn is None
    assert plan.status.observed_config_arn == ARN
    assert plan.status.serving_config_name == "corp"
    assert [e.reason for e in plan.events] == ["Observed"]


def test_observing_a_missing_config_reads_the_cluster_and_associates_nothing() -> None:
    eks = FakeEks()
    plan = _run(obj(managementPolicy="Observe"), eks)
    assert eks.calls == ["DescribeIdentityProviderConfig", "DescribeCluster"]
    assert plan.verdict.reason == "ConfigNotFound"
    assert plan.status.observed_config_arn is None
    assert (plan.retry_after, plan.poll_after) == (None, None), "the resync looks again"


def test_observing_never_mutates_whatever_eks_shows() -> None:
    shown = [
        config(owner=None),
        config(owner="other/object"),
        config(owner=None, client_id="someone-else"),
        config("CREATING", owner=None),
        config("DELETING", owner=None),
        config(owner=None, tags={"team": "b"}),
        None,
    ]
    for seen in shown:
        eks = FakeEks(config=seen)
        plan = _run(obj(managementPolicy="Observe", tags={"team": "a"}), eks)
        assert not MUTATING & set(eks.calls), seen
        assert plan.calls == ()


def test_an_observed_config_that_settles_is_followed_by_the_poll_timer() -> None:
    plan = _run(obj(managementPolicy="Observe"), FakeEks(config=config("CREATING", owner=None)))
    assert plan.in_flight
    assert plan.poll_after is not None


def test_drift_names_the_fields_and_warns_once() -> None:
    resource = obj(managementPolicy="Observe")
    eks = FakeEks(config=config(owner=None, client_id="someone-else"))
    plan = _run(resource, eks)
    stalled = _condition(plan, "Stalled")
    assert (stalled.status, stalled.reason) == ("True", "DriftDetected")
    assert "spec.oidc.clientId" in stalled.message
    assert "not corrected" in stalled.message
    assert [e.type for e in plan.events] == ["Warning"]
    assert _run(_again(resource, plan), eks).events == ()


def test_observing_an_update_of_its_own_follows_it_with_reads_and_holds_no_turn() -> None:
    gate = ClusterGate()
    in_flight = ours(
        update={"id": "u-1", "status": "InProgress"}, configStatus="CREATING", phase="Associating"
    )
    resource = obj(managementPolicy="Observe", status=in_flight)
    assert gate.acquire(KEY, resource.metadata.uid or "") is None
    eks = FakeEks(updates={"u-1": update()}, config=config("CREATING"))
    plan = _run(resource, eks, gate=gate)
    assert eks.calls == ["DescribeUpdate", "DescribeIdentityProviderConfig"]
    assert plan.in_flight
    assert plan.status.identity_provider_config_arn == ARN, "what it owned stays recorded"
    assert gate.holder(KEY, "someone-else") is None


def test_deleting_an_observer_asks_eks_nothing() -> None:
    plan = reconcile(
        obj(managementPolicy="Observe", status=ours(), deleting=True),
        ctx(),
        _no_client,
        ClusterGate(),
        Checks(may_adopt=True),
    )
    assert plan.release
    assert [e.reason for e in plan.events] == ["Observed"]


def test_observe_then_full_adopts_a_matching_config_and_tags_it() -> None:
    eks = FakeEks(config=config(owner=None))
    resource = obj(managementPolicy="Observe")
    observed = _run(resource, eks)
    full = _run(_again(resource, observed, management_policy="Full"), eks)
    assert "TagResource" in eks.calls
    assert "Adopted" in [e.reason for e in full.events]
    assert full.status.identity_provider_config_arn == ARN
    assert full.status.observed_config_arn is None


def test_observe_then_full_stalls_on_a_config_with_other_settings() -> None:
    eks = FakeEks(config=config(owner=None, client_id="someone-else"))
    resource = obj(managementPolicy="Observe")
    observed = _run(resource, eks)
    full = _run(_again(resource, observed, management_policy="Full"), eks)
    # Observing recorded nothing as its own, so the config is a stranger's: no replacement.
    assert full.verdict.reason == "ConfigConflict"
    assert not MUTATING & set(eks.calls)


def test_full_then_observe_keeps_the_owner_tag_and_stops_managing() -> None:
    eks = FakeEks(config=config(client_id="someone-else"))  # ours, drifted
    plan = _run(obj(managementPolicy="Observe", status=ours()), eks)
    assert plan.verdict.reason == "DriftDetected"
    assert not MUTATING & set(eks.calls), "no replacement, and the tag is not removed"
    assert plan.status.identity_provider_config_arn == ARN


# ------------------------------------------------------------ reconcile now


HELD = {
    "observedGeneration": 1,
    "phase": "Failed",
    "hold": {"reason": "InvalidParameterException", "generation": 1},
}


def test_a_new_reconcile_request_lifts_a_hold_and_is_recorded() -> None:
    held = obj(status=HELD)
    assert _run(held, FakeEks()).rule == "held"
    asked = obj(status=HELD, annotations={constants.RECONCILE_ANNOTATION: "2026-12-02T10:00:00Z"})
    eks = FakeEks()
    plan = _run(asked, eks)
    assert plan.rule == "config_missing"
    assert "AssociateIdentityProviderConfig" in eks.calls
    assert plan.status.last_handled_reconcile_at == "2026-12-02T10:00:00Z"


def test_an_answered_reconcile_request_does_not_lift_the_next_hold() -> None:
    request = {constants.RECONCILE_ANNOTATION: "t1"}
    held = obj(status={**HELD, "lastHandledReconcileAt": "t1"}, annotations=request)
    assert _run(held, FakeEks()).rule == "held"


def test_a_reconcile_request_starts_the_automatic_retry_count_over() -> None:
    failed = {
        "observedGeneration": 1,
        "phase": "Failed",
        "automaticRetries": 3,
        "update": {
            "id": "u-1",
            "type": "AssociateIdentityProviderConfig",
            "status": "Failed",
            "errors": [{"errorCode": "Unknown", "errorMessage": "m"}],
        },
    }
    eks = FakeEks(updates={})
    plan = _run(obj(status=failed, annotations={constants.RECONCILE_ANNOTATION: "t2"}), eks)
    assert "AssociateIdentityProviderConfig" in eks.calls
    assert plan.status.automatic_retries == 0
