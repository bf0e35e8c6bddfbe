"""reconcile(): which EKS calls one pass makes, and the plan (status, events) it ends with.

EKS is a small in-memory fake of the EksPort protocol here (the e2e tests use the simulator);
what matters is the number and kind of calls, and that every answer that changes the plan (an
error, the update a call started, a lost turn at the gate) lands in status the right way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.models.eks import EksError
from eks_oidc_operator.reconcile.observation import Checks
from eks_oidc_operator.reconcile.plan import Plan
from eks_oidc_operator.reconcile.reading.observe import presumed_absent
from eks_oidc_operator.runtime.pacing.gate import ClusterGate
from eks_oidc_operator.runtime.reconciler import reconcile
from tests.support.factories import ARN, FakeEks, config, ctx, obj, ours, update


def _run(
    resource: OidcIdentityProvider,
    eks: FakeEks,
    gate: ClusterGate | None = None,
    denied: str | None = None,
    wake: Callable[[], None] = lambda: None,
    **kwargs: Any,
) -> Plan:
    return reconcile(
        resource,
        ctx(**kwargs),
        lambda: eks,
        gate or ClusterGate(),
        Checks(denied=denied, may_adopt=True),
        wake,
    )


def _no_client() -> FakeEks:
    raise AssertionError("a pass decided before AWS asked for a client")


def test_a_new_object_is_associated_and_the_update_id_stored() -> None:
    eks = FakeEks()
    plan = _run(obj(), eks)
    # Its config is presumed absent, not described (a 404 in all but a crash's aftermath).
    assert eks.calls == ["DescribeCluster", "AssociateIdentityProviderConfig"]
    assert plan.status.update is not None
    assert plan.status.update.id == "u-new"
    assert plan.status.config_status == "CREATING"
    assert plan.in_flight
    assert [e.reason for e in plan.events] == ["Associating"]


def test_a_poll_while_the_update_runs_is_one_describe_update() -> None:
    eks = FakeEks(updates={"u-1": update()})
    resource = obj(
        status={
            "update": {"id": "u-1", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    plan = _run(resource, eks)
    assert eks.calls == ["DescribeUpdate"]
    assert plan.in_flight
    assert plan.events == ()


def test_the_poll_that_sees_success_makes_it_ready() -> None:
    eks = FakeEks(updates={"u-1": update("Successful")}, config=config())
    resource = obj(
        status={
            "update": {"id": "u-1", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    plan = _run(resource, eks)
    assert eks.calls == ["DescribeUpdate", "DescribeIdentityProviderConfig"]
    assert plan.status.phase == "Active"
    assert plan.status.identity_provider_config_arn == ARN
    assert not plan.in_flight
    # Our own tracked association finished: announced as ours, not as an adoption.
    assert [e.reason for e in plan.events] == ["Associated"]


def test_a_settled_pass_is_one_describe_config() -> None:
    eks = FakeEks(config=config())
    plan = _run(obj(status=ours(update={"id": "u-1", "status": "Successful"})), eks)
    assert eks.calls == ["DescribeIdentityProviderConfig"]
    assert plan.retry_after is None
    assert plan.events == ()


def test_after_a_crash_that_lost_status_the_update_is_recovered_not_repeated() -> None:
    # The Associate was made, then the crash lost status: the object looks new again, so the
    # pass associates without looking; EKS refuses the taken name, and the full look finds
    # the config and its update.
    eks = FakeEks(config=config("CREATING"), recovered=update(id_="u-lost"))
    plan = _run(obj(), eks)
    assert eks.calls == [
        "DescribeCluster",
        "AssociateIdentityProviderConfig",
        "DescribeIdentityProviderConfig",
        "FindUpdate",
    ]
    assert "u-new" not in eks.updates  # nothing was started a second time
    assert plan.status.update is not None
    assert plan.status.update.id == "u-lost"
    assert plan.status.identity_provider_config_arn == ARN


def test_a_409_is_retried_with_backoff_and_reported_as_cluster_busy() -> None:
    busy = EksError(
        "ResourceInUseException",
        "Cannot AssociateIdentityProviderConfig because "
        "cluster prod currently has update x in progress",
        operation="AssociateIdentityProviderConfig",
        http_status=409,
    )
    eks = FakeEks(fail={"AssociateIdentityProviderConfig": busy})
    plan = _run(obj(), eks)
    # The refusal of a presumed-absent config is looked into first: no config there, so it
    # means what it says.
    assert eks.calls == [
        "DescribeCluster",
        "AssociateIdentityProviderConfig",
        "DescribeIdentityProviderConfig",
    ]
    reconciling = next(c for c in plan.status.conditions if c.type == "Reconciling")
    assert (reconciling.status, reconciling.reason) == ("True", "ClusterUpdateInProgress")
    assert "currently has update x in progress" in reconciling.message
    assert plan.retry_after is not None
    assert 8 <= plan.retry_after <= 12
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "ClusterUpdateInProgress")]


def test_an_invalid_parameter_stalls_without_retry() -> None:
    bad = EksError(
        "InvalidParameterException",
        "The Identity Provider URL cannot be same as OpenID Connect (OIDC) issuer URL",
        operation="AssociateIdentityProviderConfig",
        http_status=400,
    )
    plan = _run(obj(), FakeEks(fail={"AssociateIdentityProviderConfig": bad}))
    stalled = next(c for c in plan.status.conditions if c.type == "Stalled")
    assert (stalled.status, stalled.reason) == ("True", "InvalidParameterException")
    assert plan.retry_after is None
    assert plan.status.phase == "Failed"


def test_the_gate_makes_a_second_object_on_the_same_cluster_wait_without_calling() -> None:
    gate = ClusterGate()
    first = FakeEks()
    _run(obj(), first, gate=gate)
    second = FakeEks()
    other = obj().model_copy(
        update={"metadata": obj().metadata.model_copy(update={"uid": "another", "name": "other"})}
    )
    woken: list[str] = []
    plan = _run(other, second, gate=gate, wake=lambda: woken.append("other"))
    # A new object behind a busy cluster makes no call at all, not even a read.
    assert second.calls == []
    ready = next(c for c in plan.status.conditions if c.type == "Reconciling")
    assert ready.reason == "ClusterUpdateInProgress"
    assert (plan.retry_after, plan.poll_after) == (None, None)
    assert plan.status.queued_since is not None
    assert woken == []
    # The first object's update ends: the gate passes to the second, and wakes it.
    done = first_after_its_update(gate)
    assert done.status.phase == "Active"
    assert woken == ["other"]
    assert gate.holder(("eu-west-1", "prod"), "someone-else") == "another"
    turn = _run(other.model_copy(update={"status": plan.status}), second, gate=gate)
    assert "AssociateIdentityProviderConfig" in second.calls
    assert turn.status.queued_since is None


def first_after_its_update(gate: ClusterGate) -> Plan:
    """The first object's poll that sees its update end."""
    resource = obj(
        status={
            "update": {"id": "u-new", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    eks = FakeEks(updates={"u-new": update("Successful")}, config=config())
    return _run(resource, eks, gate=gate)


def test_the_gate_is_released_when_the_update_ends() -> None:
    gate = ClusterGate()
    resource = obj(
        status={
            "update": {"id": "u-new", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    assert gate.acquire(("eu-west-1", "prod"), resource.metadata.uid or "") is None
    _run(resource, FakeEks(updates={"u-new": update("Successful")}, config=config()), gate=gate)
    assert gate.acquire(("eu-west-1", "prod"), "someone-else") is None


def test_tags_are_synced_in_place() -> None:
    eks = FakeEks(config=config(tags={"old": "1"}))
    plan = _run(obj(status=ours(), tags={"new": "2"}), eks)
    assert eks.calls == ["DescribeIdentityProviderConfig", "TagResource", "UntagResource"]
    assert plan.status.phase == "Active"
    assert [e.reason for e in plan.events] == ["TagsUpdated"]


def test_deletion_disassociates_then_polls_then_releases() -> None:
    eks = FakeEks(config=config())
    plan = _run(obj(status=ours(), deleting=True), eks)
    assert eks.calls[-1] == "DisassociateIdentityProviderConfig"
    assert plan.retry_after is not None
    assert not plan.release
    gone = _run(obj(status=ours(), deleting=True), FakeEks(config=None))
    assert gone.release


def test_credential_failures_stall_and_retry_slowly() -> None:
    error = EksError(
        "NoCredentialsError",
        "Unable to locate credentials",
        operation="DescribeIdentityProviderConfig",
    )
    plan = _run(obj(), FakeEks(fail={"DescribeCluster": error}))
    stalled = next(c for c in plan.status.conditions if c.type == "Stalled")
    assert (stalled.status, stalled.reason) == ("True", "NoCredentials")
    assert plan.retry_after is not None
    assert plan.retry_after >= 48


def test_adopting_an_active_config_records_the_update_that_created_it() -> None:
    created = update("Successful", id_="u-before-crash")
    eks = FakeEks(config=config(), recovered=created)
    plan = _run(obj(), eks)
    # A new object presumes no config: EKS's refusal of the taken name leads to the look.
    assert eks.calls == [
        "DescribeCluster",
        "AssociateIdentityProviderConfig",
        "DescribeIdentityProviderConfig",
        "FindUpdate",
    ]
    assert plan.status.update is not None
    assert plan.status.update.id == "u-before-crash"
    assert plan.status.phase == "Active"
    assert plan.status.identity_provider_config_arn == ARN
    # Once the ARN is recorded, settled passes do not look again.
    again = FakeEks(config=config())
    _run(obj(status=ours()), again)
    assert again.calls == ["DescribeIdentityProviderConfig"]


class _GateTakenOnAcquire(ClusterGate):
    """A gate that looks free, then is taken by another object just before our call."""

    def acquire(self, key: tuple[str, str], owner: str) -> str | None:
        super().acquire(key, "sneaky-other")
        return super().acquire(key, owner)


def test_losing_the_race_for_the_gate_replans_as_busy_without_calling() -> None:
    eks = FakeEks()  # the config is gone: the pass would associate it again
    plan = _run(obj(status=ours()), eks, gate=_GateTakenOnAcquire())
    assert "AssociateIdentityProviderConfig" not in eks.calls
    assert plan.rule == "cluster_busy"
    assert plan.verdict.queued
    assert plan.status.queued_since is not None


def test_the_associate_answer_is_recorded_and_announced_with_the_update_id() -> None:
    plan = _run(obj(), FakeEks())
    assert plan.status.update is not None
    assert (plan.status.update.id, plan.status.update.status) == ("u-new", "InProgress")
    assert [(e.reason, e.message) for e in plan.events] == [
        ("Associating", "Associating config corp with cluster prod (EKS update u-new)")
    ]
    # EKS works on it now: the timer polls from the start of its schedule.
    assert (plan.poll_after, plan.polls, plan.retry_after) == (30.0, 0, None)


def test_drift_is_reported_next_to_the_new_association() -> None:
    resource = obj(status=ours(update={"id": "u-1", "status": "Successful"}))
    plan = _run(resource, FakeEks(updates={"u-1": update("Successful")}))
    assert [(e.type, e.reason) for e in plan.events] == [
        ("Warning", "DriftDetected"),
        ("Normal", "Associating"),
    ]


def test_an_error_from_a_planned_call_replans_through_the_error_policy() -> None:
    denied = EksError("AccessDeniedException", "no", operation="TagResource", http_status=403)
    eks = FakeEks(config=config(), fail={"TagResource": denied})
    plan = _run(obj(status=ours(), tags={"team": "a"}), eks)
    assert plan.rule == "eks_error"
    assert plan.status.phase == "Failed"
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "AccessDeniedException")]


def test_without_a_region_no_client_is_made_and_the_object_stalls() -> None:
    made: list[str] = []

    def connect() -> FakeEks:
        made.append("client")
        return FakeEks()

    plan = reconcile(obj(), ctx(region=""), connect, ClusterGate())
    assert made == []
    assert (plan.rule, plan.verdict.reason) == ("eks_error", "NoRegion")
    assert plan.status.phase == "Failed"


def test_a_client_that_cannot_be_made_is_an_eks_error() -> None:
    def connect() -> FakeEks:
        raise EksError("InvalidRegionError", "bad region", operation="CreateClient")

    plan = reconcile(obj(), ctx(), connect, ClusterGate())
    assert (plan.rule, plan.verdict.reason) == ("eks_error", "InvalidRegionError")
    assert plan.retry_after is not None


def test_an_update_recovered_while_adopting_with_other_tags_is_recorded() -> None:
    # Before the rule chain this case re-tagged but dropped the recovered update, so the next
    # pass could not know which update made the config.
    created = update("Successful", id_="u-before-crash")
    eks = FakeEks(config=config(tags={"old": "1"}), recovered=created)
    plan = _run(obj(), eks)
    assert eks.calls[2:] == ["DescribeIdentityProviderConfig", "FindUpdate", "UntagResource"]
    assert plan.status.update is not None
    assert plan.status.update.id == "u-before-crash"
    assert plan.status.identity_provider_config_arn == ARN


def test_an_object_released_while_its_update_runs_frees_the_gate() -> None:
    # Retain releases even while our association is still in flight; the object never passes
    # again, so if it kept the gate every other object on the cluster would queue forever.
    gate = ClusterGate()
    resource = obj(
        status={
            "update": {"id": "u-1", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        },
        deleting=True,
        deletionPolicy="Retain",
    )
    assert gate.acquire(("eu-west-1", "prod"), resource.metadata.uid or "") is None
    plan = _run(resource, FakeEks(updates={"u-1": update()}), gate=gate)
    assert plan.release
    assert plan.in_flight
    assert gate.acquire(("eu-west-1", "prod"), "someone-else") is None


def test_the_pass_that_sees_success_and_retags_records_the_finished_update() -> None:
    # Before the rule chain a re-tagging pass kept the update as status had it (InProgress),
    # so the object stayed in flight, and announced our own config as adopted.
    resource = obj(
        status={
            "identityProviderConfigArn": ARN,
            "update": {"id": "u-1", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        },
        tags={"team": "a"},
    )
    eks = FakeEks(updates={"u-1": update("Successful")}, config=config())
    plan = _run(resource, eks)
    assert eks.calls == ["DescribeUpdate", "DescribeIdentityProviderConfig", "TagResource"]
    assert plan.status.update is not None
    assert plan.status.update.status == "Successful"
    assert not plan.in_flight
    assert [e.reason for e in plan.events] == ["Associated", "TagsUpdated"]


def test_a_pass_the_tenancy_policy_refuses_makes_no_client_and_no_call() -> None:
    resource = obj(roleArn="arn:aws:iam::111111111111:role/x")
    plan = reconcile(resource, ctx(), _no_client, ClusterGate(), Checks(denied="not granted"))
    assert (plan.rule, plan.verdict.reason, plan.calls) == ("not_permitted", "NotPermitted", ())
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "NotPermitted")]


def test_a_parameter_error_is_never_sent_again_until_the_spec_changes() -> None:
    bad = EksError("InvalidParameterException", "bad", operation="AssociateIdentityProviderConfig")
    eks = FakeEks(fail={"AssociateIdentityProviderConfig": bad})
    first = _run(obj(status={"observedGeneration": 1}), eks)
    assert first.status.hold is not None
    assert eks.calls.count("AssociateIdentityProviderConfig") == 1
    later = obj(status=first.status.model_dump(mode="json", by_alias=True))
    again = reconcile(later, ctx(), _no_client, ClusterGate())
    assert (again.rule, again.verdict.reason, again.events) == (
        "held",
        "InvalidParameterException",
        (),
    )
    changed = obj(status=first.status.model_dump(mode="json", by_alias=True), generation=2)
    _run(changed, eks)
    assert eks.calls.count("AssociateIdentityProviderConfig") == 2


def test_a_config_owned_by_another_is_neither_recovered_nor_touched() -> None:
    eks = FakeEks(config=config("CREATING", owner="team-b/corp"), recovered=update())
    plan = _run(obj(), eks)
    assert plan.verdict.reason == "ConfigOwnedByAnother"
    assert "team-b/corp" in plan.verdict.message
    # Refused (the name is taken), then looked at: no FindUpdate, no Tag, nothing.
    assert eks.calls == [
        "DescribeCluster",
        "AssociateIdentityProviderConfig",
        "DescribeIdentityProviderConfig",
    ]


def test_a_full_cluster_gets_no_associate() -> None:
    eks = FakeEks(version="1.31", others=["okta"])
    plan = _run(obj(), eks)
    assert plan.verdict.reason == "ProviderLimitReached"
    assert "okta" in plan.verdict.message
    assert "AssociateIdentityProviderConfig" not in eks.calls


def test_the_association_carries_the_ownership_tags_with_the_management_cluster() -> None:
    eks = FakeEks()
    resource = obj(tags={"team": "a"})
    from dataclasses import replace

    reconcile(resource, replace(ctx(), management_cluster="mgmt-1"), lambda: eks, ClusterGate())
    assert eks.config is not None
    assert eks.config.tags == {
        "team": "a",
        "eksoidc.io/owner": "platform/corp",
        "eksoidc.io/management-cluster": "mgmt-1",
    }


def test_a_lingering_config_of_our_failed_association_is_not_looked_up_again() -> None:
    failed = update("Failed", code="ConfigurationConflict", message="m")
    eks = FakeEks(config=config("CREATING"), recovered=failed)
    resource = obj(status={"observedGeneration": 1, "update": failed.model_dump(by_alias=True)})
    plan = _run(resource, eks)
    assert eks.calls == ["DescribeIdentityProviderConfig"]
    assert plan.verdict.reason == "UpdateFailedConfigurationConflict"
    held = obj(status=plan.status.model_dump(mode="json", by_alias=True))
    assert reconcile(held, ctx(), _no_client, ClusterGate()).rule == "held"


def test_configs_are_counted_before_associating_only_where_the_limit_is_one() -> None:
    old = FakeEks(version="1.31")
    _run(obj(), old)
    assert old.calls == [
        "DescribeCluster",
        "ListIdentityProviderConfigs",
        "AssociateIdentityProviderConfig",
    ]
    new = FakeEks(version="1.32")
    _run(obj(), new)
    assert "ListIdentityProviderConfigs" not in new.calls


def test_after_a_restart_an_update_in_flight_takes_the_gate_back() -> None:
    gate = ClusterGate()  # a new process: nobody holds anything
    resource = obj(
        status={
            "update": {"id": "u-new", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    _run(resource, FakeEks(updates={"u-new": update()}), gate=gate)
    assert gate.holder(("eu-west-1", "prod"), "someone-else") == resource.metadata.uid


def test_an_object_new_to_eks_takes_its_turn_before_reading_anything() -> None:
    eks = FakeEks()
    plan = _run(obj(), eks, gate=_GateTakenOnAcquire())
    # Taken by another between the look and the take: it queues without a single call.
    assert eks.calls == []
    assert plan.rule == "waits_turn"
    gate = ClusterGate()
    first = _run(obj(), FakeEks(), gate=gate)
    assert first.rule != "waits_turn"
    assert gate.holder(("eu-west-1", "prod"), "someone-else") == obj().metadata.uid


def test_a_new_object_that_starts_nothing_frees_the_turn_it_took() -> None:
    gate = ClusterGate()
    woken: list[str] = []
    plan = _run(obj(), FakeEks(cluster_exists=False), gate=gate)
    assert "AssociateIdentityProviderConfig" not in FakeEks().calls
    assert plan.retry_after is not None  # the cluster is missing: looked at again later
    assert gate.holder(("eu-west-1", "prod"), "someone-else") is None
    gate.acquire(("eu-west-1", "prod"), "holder")
    gate.enqueue(("eu-west-1", "prod"), obj().metadata.uid or "", ("t", "ns/x"), lambda: None)
    gate.enqueue(("eu-west-1", "prod"), "next", ("u", "ns/next"), lambda: woken.append("next"))
    gate.release(("eu-west-1", "prod"), "holder")  # our object's turn
    _run(obj(), FakeEks(cluster_exists=False), gate=gate)
    assert woken == ["next"], "its pass started nothing: the turn passes on at once"


def test_a_new_object_past_its_first_generation_is_looked_at_in_full() -> None:
    # Edited before it was ever associated: status may have lost a successor's record, so
    # the config is described as for any object that has been in EKS.
    eks = FakeEks()
    _run(obj(generation=2), eks)
    assert eks.calls[0] == "DescribeIdentityProviderConfig"
    assert "AssociateIdentityProviderConfig" in eks.calls


def test_a_failed_look_after_a_refused_associate_is_the_error_of_the_pass() -> None:
    throttled = EksError(
        "ThrottlingException", "Rate exceeded", operation="DescribeIdentityProviderConfig"
    )
    busy = EksError("ResourceInUseException", "in use", operation="AssociateIdentityProviderConfig")
    eks = FakeEks(
        fail={"AssociateIdentityProviderConfig": busy, "DescribeIdentityProviderConfig": throttled}
    )
    plan = _run(obj(), eks)
    assert plan.verdict.reason == "ThrottlingException"
    assert plan.retry_after is not None
    assert plan.status.update is None


def test_a_config_found_after_a_refused_associate_is_acted_on_in_the_same_pass() -> None:
    # Made outside with other tags: found after the refusal, adopted (tags set) at once.
    eks = FakeEks(config=config(owner=None, tags={"team": "x"}), recovered=update("Successful"))
    plan = _run(obj(), eks)
    assert eks.calls[:3] == [
        "DescribeCluster",
        "AssociateIdentityProviderConfig",
        "DescribeIdentityProviderConfig",
    ]
    assert "TagResource" in eks.calls
    assert plan.status.identity_provider_config_arn == ARN


@pytest.mark.parametrize(
    ("resource", "presumed"),
    [
        (obj(), True),
        (obj(status={"observedGeneration": 0, "phase": "Pending"}), True),
        (obj(generation=2), False),
        (obj(deleting=True), False),
        (obj(managementPolicy="Observe"), False),
        (obj(status={"update": {"id": "u-1", "status": "Failed"}}), False),
        (obj(status=ours()), False),
    ],
    ids=["new", "queued", "edited", "deleting", "observing", "had-an-update", "settled"],
)
def test_which_objects_presume_their_config_absent(
    resource: OidcIdentityProvider, presumed: bool
) -> None:
    assert presumed_absent(resource) is presumed
