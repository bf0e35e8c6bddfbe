"""The kopf handlers, called directly with a fake runtime: the state they keep is pinned here.

Each handler parses the body, runs one pass, patches status, posts the plan's events and turns
the plan's "when to look again" into kopf's signals. What they keep in the per-object memo (the
status they last wrote, where the poll schedule stands) is what these tests hold them to.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf
import pytest

from eks_oidc_operator import constants
from eks_oidc_operator.handlers import oidc_identity_provider as handlers
from eks_oidc_operator.models import IssuerCheckMode
from eks_oidc_operator.models.eks import EksError
from eks_oidc_operator.models.tenancy import TenancyPolicy, TenancyRule
from eks_oidc_operator.reconcile.plan import Event
from eks_oidc_operator.reconcile.scheduling import Due, Timer, next_timer, paused
from eks_oidc_operator.reconcile.timing import Timings
from eks_oidc_operator.runtime.object_state import ObjectState
from eks_oidc_operator.runtime.pacing.gate import ClusterGate
from eks_oidc_operator.runtime.port import EksPort
from eks_oidc_operator.runtime.services import Runtime
from eks_oidc_operator.runtime.tenancy_source import PolicySource
from eks_oidc_operator.settings import OperatorSettings
from tests.support.factories import FakeEks, config, update

TIMINGS = Timings()


@dataclass
class FakeClients:
    eks: FakeEks
    asked: list[tuple[str, str | None]] = field(default_factory=list)

    def get(
        self,
        region: str,
        role_arn: str | None,
        *,
        external_id: str | None = None,
        session_name: str | None = None,
    ) -> EksPort:
        self.asked.append((region, role_arn))
        return self.eks


@dataclass
class Recorder:
    events: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, body: Mapping[str, Any], event: Event) -> None:
        self.events.append((event.type, event.reason))


def _due(b: kopf.Body, memo: kopf.Memo) -> Due | None:
    """The timer the scheduler would give the object now (as ``Timers`` decides it)."""
    facts = handlers.timer_facts(b, memo)
    return next_timer(
        waiting=facts.waiting,
        queued=facts.queued,
        paused=paused(b.metadata.annotations),
        deleting=bool(b.metadata.get("deletionTimestamp")),
        retries_owed=facts.owed,
        poll_after=facts.poll_after,
        woken=False,
        timings=TIMINGS,
        rng=random.Random(0),
    )


def _polled(b: kopf.Body, memo: kopf.Memo) -> bool:
    due = _due(b, memo)
    return due is not None and due.kind is Timer.POLL


def _resynced(b: kopf.Body, memo: kopf.Memo) -> bool:
    due = _due(b, memo)
    return due is not None and due.kind is Timer.RESYNC


@dataclass
class World:
    eks: FakeEks
    clients: FakeClients
    events: Recorder
    memo: kopf.Memo


PERMIT_ALL = TenancyPolicy(
    rules=(
        TenancyRule(
            name="all", namespaces=("*",), role_arns=("*",), operator_identity=True, adopt=True
        ),
    )
)
"""These tests are about passes, not tenancy (which has its own): everything is granted."""


@pytest.fixture
def world() -> World:
    eks = FakeEks()
    clients = FakeClients(eks)
    events = Recorder()
    runtime = Runtime(
        # No issuer pre-flight here (it has its own tests): these tests are about the passes.
        settings=OperatorSettings(issuer_check=IssuerCheckMode.SKIP),
        clients=clients,
        timings=TIMINGS,
        gate=ClusterGate(),
        rng=random.Random(0),
        default_region="eu-west-1",
        post_event=events,
        tenancy=PolicySource(None, fixed=PERMIT_ALL),
    )
    return World(eks, clients, events, kopf.Memo(runtime=runtime))


def body(
    *,
    status: dict[str, Any] | None = None,
    deleting: bool = False,
    annotations: dict[str, str] | None = None,
    **extra_spec: Any,
) -> kopf.Body:
    metadata: dict[str, Any] = {
        "name": "corp",
        "namespace": "platform",
        "uid": "u",
        "generation": 1,
        "annotations": annotations or {},
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-28T12:00:00Z"
    spec = {
        "clusterName": "prod",
        "oidc": {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"},
        **extra_spec,
    }
    raw: Any = {"metadata": metadata, "spec": spec, "status": status or {}}
    return kopf.Body(raw)


def _owed_after(world: World) -> float:
    """The delay the object's record says its poll timer owes a pass after."""
    after = ObjectState.of(world.memo).poll_after
    assert after is not None
    return after


def _remembered(world: World) -> Any:
    status = ObjectState.of(world.memo).remembered()
    assert status is not None
    return status


async def test_a_create_associates_writes_status_and_remembers_the_poll_schedule(
    world: World,
) -> None:
    patch = kopf.Patch()
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=patch, retry=0)
    assert world.eks.calls[-1] == "AssociateIdentityProviderConfig"
    assert patch["status"]["update"]["id"] == "u-new"
    assert world.clients.asked == [("eu-west-1", None)]
    assert world.events.events == [("Normal", "Associating")]
    assert _remembered(world).update.id == "u-new"
    assert (ObjectState.of(world.memo).polls, ObjectState.of(world.memo).poll_after) == (
        0,
        TIMINGS.poll_initial,
    )


async def test_a_retry_the_plan_asks_for_is_owed_by_the_poll_timer_not_kopf(world: World) -> None:
    world.eks.cluster_exists = False
    # No TemporaryError: kopf writes no progress annotation and no touch for it.
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    assert world.events.events == [("Warning", "ClusterNotFound")]
    assert ObjectState.of(world.memo).poll_retries == 1
    backoff = _owed_after(world)
    assert 8 <= backoff <= 12
    assert _due(body(), world.memo) == Due(Timer.POLL, backoff)
    # The timer's pass is the next retry: its backoff grows, as kopf's did.
    await handlers.poll_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert ObjectState.of(world.memo).poll_retries == 2
    assert 16 <= _owed_after(world) <= 24
    world.eks.cluster_exists = True
    await handlers.poll_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert world.eks.calls[-1] == "AssociateIdentityProviderConfig"
    assert ObjectState.of(world.memo).poll_retries == 0


async def test_a_spec_update_starts_the_backoff_again(world: World) -> None:
    world.eks.cluster_exists = False
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    await handlers.poll_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert ObjectState.of(world.memo).poll_retries == 2
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    assert ObjectState.of(world.memo).poll_retries == 1
    assert 8 <= _owed_after(world) <= 12


async def test_the_next_pass_reads_the_status_it_wrote_not_the_stale_body(world: World) -> None:
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    world.eks.calls.clear()
    # The watch event with the new status has not arrived: the body still has none.
    await handlers.resync_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert world.eks.calls == ["DescribeUpdate"], "it follows its update, never associates again"


async def test_polls_wait_as_the_last_plan_said_and_start_over_for_the_next_update(
    world: World,
) -> None:
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    waits = []
    for _ in range(3):
        waits.append(_due(body(), world.memo))
        await handlers.poll_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert waits == [Due(Timer.POLL, 30.0)] * 3  # the default schedule is flat
    assert ObjectState.of(world.memo).polls == 3
    world.eks.updates["u-new"] = update("Successful", id_="u-new")
    world.eks.config = config()
    await handlers.poll_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert _remembered(world).phase == "Active"
    assert (ObjectState.of(world.memo).polls, ObjectState.of(world.memo).poll_after) == (0, None)
    assert world.events.events[-1] == ("Normal", "Associated")


async def test_a_poll_before_any_plan_in_this_process_waits_the_first_step(world: World) -> None:
    in_flight = {
        "update": {"id": "u-1", "status": "InProgress"},
        "configStatus": "CREATING",
        "phase": "Associating",
    }
    world.eks.updates["u-1"] = update(id_="u-1")
    assert _due(body(status=in_flight), world.memo) == Due(Timer.POLL, TIMINGS.poll_initial)
    await handlers.poll_pass(body=body(status=in_flight), memo=world.memo, patch=kopf.Patch())
    assert world.eks.calls == ["DescribeUpdate"]
    assert ObjectState.of(world.memo).polls == 1


async def test_deletion_is_retried_until_the_plan_releases(world: World) -> None:
    ours = {"identityProviderConfigArn": config().arn, "configStatus": "ACTIVE", "phase": "Active"}
    world.eks.config = config()
    with pytest.raises(kopf.TemporaryError) as raised:
        await handlers.finalize_handler(
            body=body(status=ours, deleting=True), memo=world.memo, patch=kopf.Patch(), retry=0
        )
    assert world.eks.calls[-1] == "DisassociateIdentityProviderConfig"
    assert raised.value.delay == TIMINGS.poll_initial
    world.eks.config = None
    world.eks.updates["u-del"] = update("Successful", "DisassociateIdentityProviderConfig", "u-del")
    await handlers.finalize_handler(
        body=body(status=ours, deleting=True), memo=world.memo, patch=kopf.Patch(), retry=1
    )
    assert world.events.events[-1] == ("Normal", "Disassociated")


async def test_the_timer_filters_read_the_remembered_status_first(world: World) -> None:
    assert not _polled(body(), world.memo)
    assert _resynced(body(), world.memo)
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    # The body still shows no status (its watch event is on its way): the memo's is read.
    assert _polled(body(), world.memo)
    assert not _resynced(body(), world.memo)
    assert _due(body(deleting=True), world.memo) is None, "the finalize handler owns deletion"


async def test_an_object_keeps_the_region_it_was_created_in(world: World) -> None:
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    runtime: Runtime = world.memo["runtime"]
    # The operator's default region changes (a new install, a changed setting): objects that
    # did not name a region stay where they were created, never repointed at another region.
    world.memo["runtime"] = dataclasses.replace(runtime, default_region="us-east-1")
    await handlers.resync_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert [region for region, _ in world.clients.asked] == ["eu-west-1", "eu-west-1"]
    fresh = kopf.Memo(runtime=world.memo["runtime"])
    await handlers.reconcile_handler(body=body(), memo=fresh, patch=kopf.Patch(), retry=0)
    assert world.clients.asked[-1] == ("us-east-1", None), "a new object takes the new default"


def _named(namespace: str, created: str, uid: str) -> kopf.Body:
    raw: Any = dict(body())
    raw["metadata"] = {
        **raw["metadata"],
        "namespace": namespace,
        "uid": uid,
        "creationTimestamp": created,
    }
    return kopf.Body(raw)


async def test_an_object_an_older_one_claims_the_config_from_makes_no_eks_call(
    world: World,
) -> None:
    older = _named("team-a", "2026-12-01T10:00:00Z", "a")
    younger = _named("team-b", "2026-12-01T10:00:05Z", "b")
    claims: dict[Any, list[Any]] = {}
    for each in (younger, older):  # the order the watch delivered them does not matter
        for key, claim in (await handlers.claims_index(body=each, memo=world.memo) or {}).items():
            claims.setdefault(key, []).append(claim)
    assert len(claims) == 1  # one config: same account, region, cluster and name
    patch = kopf.Patch()
    await handlers.reconcile_handler(
        body=younger, memo=world.memo, patch=patch, retry=0, claims=claims
    )
    # Looked at again later (in case the older one goes), by the poll timer.
    assert _owed_after(world) >= TIMINGS.slow_retry_base * 0.8
    assert world.eks.calls == []
    assert world.clients.asked == []
    stalled = next(c for c in patch["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "ConfigOwnedByAnother"
    assert "team-a/corp" in stalled["message"]


async def test_a_deleted_object_claims_nothing(world: World) -> None:
    assert await handlers.claims_index(body=body(deleting=True), memo=world.memo) is None


async def test_an_older_object_the_tenancy_policy_refuses_claims_nothing(world: World) -> None:
    refused = _named("team-a", "2026-12-01T10:00:00Z", "a")
    refused["spec"]["roleArn"] = "arn:aws:iam::111111111111:role/x"  # the default grants no role
    refused["spec"]["region"] = "eu-west-1"
    mine = _named("team-b", "2026-12-01T10:00:05Z", "b")
    claims: dict[Any, list[Any]] = {}
    for each in (refused, mine):
        for key, claim in (await handlers.claims_index(body=each, memo=world.memo) or {}).items():
            claims.setdefault(key, []).append(claim)
    # Same key only if same account: make the refused one claim the operator's own account.
    key = next(iter(claims))
    claims = {key: [c for found in claims.values() for c in found]}
    await handlers.reconcile_handler(
        body=mine, memo=world.memo, patch=kopf.Patch(), retry=0, claims=claims
    )
    assert world.eks.calls[-1] == "AssociateIdentityProviderConfig"


@dataclass
class CountingIssuers:
    urls: list[str] = field(default_factory=list)

    async def check(self, url: str, tenant: str = "") -> Any:
        from eks_oidc_operator.reconcile.guards.issuer import IssuerCheck

        self.urls.append(url)
        return IssuerCheck(url, detail="ok")


async def test_the_issuer_is_checked_before_an_association_only(world: World) -> None:
    issuers = CountingIssuers()
    runtime = dataclasses.replace(
        world.memo["runtime"],
        settings=OperatorSettings(issuer_check=IssuerCheckMode.ENFORCE),
        issuers=issuers,
    )
    memo = kopf.Memo(runtime=runtime)
    await handlers.reconcile_handler(body=body(), memo=memo, patch=kopf.Patch(), retry=0)
    assert len(issuers.urls) == 1  # a new object: checked
    # Its association is in flight: the poll does not check again.
    await handlers.poll_pass(body=body(), memo=memo, patch=kopf.Patch())
    assert len(issuers.urls) == 1
    ready = {
        "observedGeneration": 1,
        "identityProviderConfigArn": "arn",
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Active",
                "message": "m",
                "lastTransitionTime": "2026-12-01T10:00:00Z",
                "observedGeneration": 1,
            }
        ],
    }
    settled = kopf.Memo(runtime=runtime)
    world.eks.config = config()
    await handlers.resync_pass(body=body(status=ready), memo=settled, patch=kopf.Patch())
    assert len(issuers.urls) == 1  # Ready at its generation: EKS has the issuer already


def _second() -> kopf.Body:
    """Another object on the same cluster, created later."""
    raw: Any = dict(body())
    raw["metadata"] = {**raw["metadata"], "name": "corp-2", "uid": "u2"}
    return kopf.Body(raw)


async def test_a_queued_object_waits_for_the_gate_without_calls_timers_or_writes(
    world: World,
) -> None:
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    second = kopf.Memo(runtime=world.memo["runtime"])
    before = len(world.eks.calls)
    patch = kopf.Patch()
    await handlers.reconcile_handler(body=_second(), memo=second, patch=patch, retry=0)
    assert not ObjectState.of(second).poll_retries  # no retry owed: the gate wakes it
    assert world.eks.calls[before:] == []
    assert patch["status"]["queuedSince"]
    # The poll timer waits for the gate's wake-up, with the resync interval only as a safety
    # net; the pass of that net (still not its turn) calls nothing and writes nothing.
    assert _due(_second(), second) == Due(Timer.POLL, TIMINGS.resync)
    again = kopf.Patch()
    await handlers.poll_pass(body=_second(), memo=second, patch=again)
    assert world.eks.calls[before:] == []
    assert "status" not in again
    woken: list[str] = []
    runtime: Runtime = world.memo["runtime"]
    runtime.timers.wake = woken.append  # type: ignore[method-assign,assignment]
    # The first object's update ends: the gate passes to the second and wakes its timer.
    world.eks.updates["u-new"] = update("Successful", id_="u-new")
    world.eks.config = config()
    await handlers.poll_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert woken == ["u2"]


async def test_a_timer_pass_that_asks_for_a_retry_is_retried_by_the_timer(world: World) -> None:
    queued = {"phase": "Pending", "queuedSince": "2026-12-02T10:00:00Z"}
    world.eks.fail["DescribeCluster"] = EksError(
        "ThrottlingException", "Rate exceeded", operation="DescribeCluster"
    )
    await handlers.poll_pass(body=body(status=queued), memo=world.memo, patch=kopf.Patch())
    # Its turn came (the gate was free) but EKS throttled: nothing is in flight, so only the
    # timer can look again, on the retry backoff.
    assert ObjectState.of(world.memo).poll_retries == 1
    backoff = _owed_after(world)
    assert 8 <= backoff <= 12
    assert _due(body(status=queued), world.memo) == Due(Timer.POLL, backoff)
    world.eks.fail.clear()
    await handlers.poll_pass(body=body(status=queued), memo=world.memo, patch=kopf.Patch())
    assert world.eks.calls[-1] == "AssociateIdentityProviderConfig"
    assert ObjectState.of(world.memo).poll_retries == 0


async def test_a_deleted_object_leaves_the_gate(world: World) -> None:
    runtime: Runtime = world.memo["runtime"]
    runtime.gate.acquire(("eu-west-1", "prod"), "u")
    event: Any = {"type": "DELETED", "object": dict(body())}
    await handlers.object_gauges(event=event, memo=world.memo)
    assert runtime.gate.holder(("eu-west-1", "prod"), "someone") is None


PAUSED = {constants.PAUSED_ANNOTATION: "true"}


async def test_a_pause_leaves_no_timer_and_the_controls_handler_writes_it_once(
    world: World,
) -> None:
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    assert _polled(body(), world.memo), "in flight: polled"
    paused = body(annotations=PAUSED)
    assert _due(paused, world.memo) is None
    before, patch = len(world.eks.calls), kopf.Patch()
    await handlers.controls_handler(body=paused, memo=world.memo, patch=patch)
    assert world.eks.calls[before:] == []
    assert [c["type"] for c in patch["status"]["conditions"]][-1] == "Paused"
    # Answered: the next watch event of the paused object runs no pass.
    again = kopf.Patch()
    await handlers.controls_handler(body=paused, memo=world.memo, patch=again)
    assert "status" not in again
    # Lifted: one pass, which polls the update (no second Associate) and drops the condition.
    resumed = kopf.Patch()
    await handlers.controls_handler(body=body(), memo=world.memo, patch=resumed)
    assert world.eks.calls[before:] == ["DescribeUpdate"]
    assert "Paused" not in [c["type"] for c in resumed["status"]["conditions"]]


async def test_a_new_reconcile_request_is_answered_once(world: World) -> None:
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    asked = body(annotations={constants.RECONCILE_ANNOTATION: "t1"})
    before, patch = len(world.eks.calls), kopf.Patch()
    await handlers.controls_handler(body=asked, memo=world.memo, patch=patch)
    assert len(world.eks.calls) > before
    assert patch["status"]["lastHandledReconcileAt"] == "t1"
    before = len(world.eks.calls)
    await handlers.controls_handler(body=asked, memo=world.memo, patch=kopf.Patch())
    assert len(world.eks.calls) == before


async def test_a_huge_reconcile_request_is_recorded_as_a_digest_and_answered_once(
    world: World,
) -> None:
    # An annotation may hold 256 KiB; status keeps a mark of at most 71 characters, not a copy.
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    value = "x" * 200_000
    asked = body(annotations={constants.RECONCILE_ANNOTATION: value})
    before, patch = len(world.eks.calls), kopf.Patch()
    await handlers.controls_handler(body=asked, memo=world.memo, patch=patch)
    assert len(world.eks.calls) > before
    recorded = patch["status"]["lastHandledReconcileAt"]
    assert recorded.startswith("sha256:")
    assert len(recorded) <= 71
    assert len(str(patch)) < 10_000
    before = len(world.eks.calls)
    await handlers.controls_handler(body=asked, memo=world.memo, patch=kopf.Patch())
    assert len(world.eks.calls) == before
    changed = body(annotations={constants.RECONCILE_ANNOTATION: value + "y"})
    answered = ObjectState.of(world.memo).request_answered_at
    assert answered is not None
    ObjectState.of(world.memo).request_answered_at = answered - 60  # the 30 s interval is over
    await handlers.controls_handler(body=changed, memo=world.memo, patch=kopf.Patch())
    assert len(world.eks.calls) > before


async def test_a_flood_of_requests_is_answered_once_per_interval(world: World) -> None:
    # Forty reconcile-now values on one object made forty passes (on a held object, forty
    # Associates). Within the interval of the last one answered, a request waits for the poll
    # timer at the interval's end: no pass, no call now.
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    first = body(annotations={constants.RECONCILE_ANNOTATION: "t0"})
    await handlers.controls_handler(body=first, memo=world.memo, patch=kopf.Patch())
    before = len(world.eks.calls)
    for value in range(1, 40):
        asked = body(annotations={constants.RECONCILE_ANNOTATION: f"t{value}"})
        patch = kopf.Patch()
        await handlers.controls_handler(body=asked, memo=world.memo, patch=patch)
        assert "status" not in patch
    assert len(world.eks.calls) == before
    assert 29 < _owed_after(world) <= 30  # the timer answers the last value then
    assert ObjectState.of(world.memo).poll_retries >= 1


async def test_a_deleted_object_is_left_to_the_finalize_handler(world: World) -> None:
    deleted = body(deleting=True, annotations={constants.RECONCILE_ANNOTATION: "t1"})
    patch = kopf.Patch()
    await handlers.controls_handler(body=deleted, memo=world.memo, patch=patch)
    assert world.eks.calls == []
    assert "status" not in patch


async def test_a_control_pass_that_asks_for_a_retry_is_retried_by_the_poll_timer(
    world: World,
) -> None:
    world.eks.cluster_exists = False
    asked = body(annotations={constants.RECONCILE_ANNOTATION: "t1"})
    await handlers.controls_handler(body=asked, memo=world.memo, patch=kopf.Patch())
    assert ObjectState.of(world.memo).poll_retries == 1
    assert _polled(asked, world.memo)


async def test_an_observing_object_claims_nothing(world: World) -> None:
    assert (
        await handlers.claims_index(body=body(managementPolicy="Observe"), memo=world.memo) is None
    )
    assert await handlers.claims_index(body=body(), memo=world.memo) is not None


async def test_a_request_deferred_while_a_poll_pass_runs_is_still_owed(world: World) -> None:
    # The poll pass that ends with nothing to retry used to reset what the timer owed, and the
    # deferred request waited for the next resync (10 minutes).
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    first = body(annotations={constants.RECONCILE_ANNOTATION: "t0"})
    await handlers.controls_handler(body=first, memo=world.memo, patch=kopf.Patch())
    second = body(annotations={constants.RECONCILE_ANNOTATION: "t1"})
    await handlers.controls_handler(body=second, memo=world.memo, patch=kopf.Patch())
    due = ObjectState.of(world.memo).request_due
    assert due is not None
    assert due > 0
    await handlers.poll_pass(body=first, memo=world.memo, patch=kopf.Patch())
    assert ObjectState.of(world.memo).poll_retries == 1
    assert 0 < _owed_after(world) <= 30


async def test_a_restart_describes_no_settled_object_at_once(world: World) -> None:
    """Resumed after a restart, a Ready object waits for its drift check (its resync timer,
    spread over the interval); one with an update in flight is polled at once."""
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=kopf.Patch(), retry=0)
    world.eks.updates["u-new"] = update("Successful", id_="u-new")
    world.eks.config = config()
    patch = kopf.Patch()
    await handlers.poll_pass(body=body(), memo=world.memo, patch=patch)
    ready = dict(patch["status"])
    assert ready["phase"] == "Active"
    world.eks.calls.clear()
    restarted = kopf.Memo(runtime=world.memo["runtime"])
    settled = body(status=ready)
    await handlers.reconcile_handler(
        body=settled, memo=restarted, patch=kopf.Patch(), retry=0, reason="resume"
    )
    assert world.eks.calls == []
    assert _due(settled, restarted) is not None  # its drift check is planned
    in_flight = {"update": {"id": "u-1", "status": "InProgress"}, "phase": "Associating"}
    world.eks.updates["u-1"] = update(id_="u-1")
    await handlers.reconcile_handler(
        body=body(status=in_flight),
        memo=kopf.Memo(runtime=world.memo["runtime"]),
        patch=kopf.Patch(),
        retry=0,
        reason="resume",
    )
    assert world.eks.calls == ["DescribeUpdate"]


async def test_a_pass_behind_a_long_line_at_its_call_rate_waits_on_its_timer(
    world: World,
) -> None:
    runtime: Runtime = world.memo["runtime"]
    key = ("", "eu-west-1")
    runtime.pacer._waiting[key] = 500  # five hundred passes waiting at admission already
    patch = kopf.Patch()
    await handlers.reconcile_handler(body=body(), memo=world.memo, patch=patch, retry=0)
    # No pass: no call, no write, nothing held; the poll timer owes it its place.
    assert world.eks.calls == []
    assert "status" not in patch
    place = _owed_after(world)
    assert place > 2.0
    assert _due(body(), world.memo) == Due(Timer.POLL, place)
    # The timer brings it at its place: it goes, whatever the line is by then.
    await handlers.poll_pass(body=body(), memo=world.memo, patch=kopf.Patch())
    assert world.eks.calls[-1] == "AssociateIdentityProviderConfig"


def test_kopf_lists_in_pages_at_start() -> None:
    from eks_oidc_operator.handlers import lifecycle

    settings = kopf.OperatorSettings()
    lifecycle._configure_kopf(settings)
    # Unpaged, a start with 10,000 objects held them all decoded, managedFields and all.
    assert settings.watching.chunk_size == lifecycle.LISTING_PAGE
    assert settings.persistence.finalizer == constants.FINALIZER
