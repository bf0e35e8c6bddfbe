"""One reconcile pass: observe EKS, decide (pure), act, and build the new status.

This is the only module of ``reconcile`` that performs I/O, and only through :class:`EksPort`
(implemented by :class:`eks_oidc_operator.eks.EksClient`). It blocks: the handlers run it in a
worker thread, never on kopf's event loop. The result is a plain :class:`Outcome`; the handlers
turn it into a status patch, events and kopf's retry signals.

EKS calls are kept few on purpose. While a tracked update is in flight one poll is one
DescribeUpdate; the config is described only when the update has ended (or nothing is in
flight), and the cluster only when the config is missing.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.eks.types import ObservedConfig, ObservedUpdate, ObservedUpdateError
from eks_oidc_operator.models import (
    ConfigStatus,
    OidcConfigSpec,
    OidcIdentityProvider,
    OidcIdentityProviderStatus,
    Phase,
    UpdateError,
    UpdateStatus,
)
from eks_oidc_operator.reconcile import conditions
from eks_oidc_operator.reconcile.decision import (
    ASSOCIATE,
    DISASSOCIATE,
    IN_PROGRESS,
    Decision,
    Event,
    Observation,
    Step,
    association_token,
    decide,
    disassociation_token,
)
from eks_oidc_operator.reconcile.errors import (
    CLUSTER_UPDATE_IN_PROGRESS,
    ErrorPolicy,
    Retry,
    api_error_policy,
)
from eks_oidc_operator.reconcile.timing import Timings, backoff, poll_delay


class EksPort(Protocol):
    """The EKS calls the reconciler makes (blocking)."""

    def describe_cluster(self, cluster: str) -> object | None: ...
    def describe_config(self, cluster: str, name: str) -> ObservedConfig | None: ...
    def describe_update(self, cluster: str, update_id: str) -> ObservedUpdate | None: ...
    def find_config_update(self, cluster: str, name: str, type: str) -> ObservedUpdate | None: ...
    def associate(
        self,
        cluster: str,
        name: str,
        oidc: OidcConfigSpec,
        tags: Mapping[str, str],
        token: str,
    ) -> ObservedUpdate: ...
    def disassociate(self, cluster: str, name: str, token: str) -> ObservedUpdate: ...
    def tag(self, arn: str, tags: Mapping[str, str]) -> None: ...
    def untag(self, arn: str, keys: Collection[str]) -> None: ...


class ClusterGate:
    """Serialises this operator's own mutating calls per cluster.

    EKS runs one update per cluster at a time and answers any second one with a 409. When N
    objects target one cluster, the gate lets one of them call EKS and has the others wait
    without calling at all. A restarted operator starts with an empty gate; EKS's 409 still
    guards correctness, the gate only saves calls.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[tuple[str, str], str] = {}

    def acquire(self, key: tuple[str, str], owner: str) -> str | None:
        """Take the cluster for ``owner``; return the current other owner if it is taken."""
        with self._lock:
            current = self._owners.setdefault(key, owner)
            return None if current == owner else current

    def release(self, key: tuple[str, str], owner: str) -> None:
        """Free the cluster if ``owner`` holds it."""
        with self._lock:
            if self._owners.get(key) == owner:
                del self._owners[key]


@dataclass
class Outcome:
    """What one pass produced, for the handlers to write and signal."""

    status: OidcIdentityProviderStatus
    events: list[Event] = field(default_factory=list)
    requeue_after: float | None = None
    """Run again after this many seconds (kopf TemporaryError); None: only on change/timer."""
    release: bool = False
    """Deletion finished: the finalizer may be removed."""

    @property
    def in_flight(self) -> bool:
        """An EKS update or config transition is under way: the poll timer takes over."""
        return in_flight(self.status)


def in_flight(status: OidcIdentityProviderStatus) -> bool:
    """Whether ``status`` describes work EKS is still doing (what the poll timer waits on)."""
    if status.update is not None and status.update.status == IN_PROGRESS:
        return True
    return status.config_status in (ConfigStatus.CREATING, ConfigStatus.DELETING) and (
        status.phase in (Phase.ASSOCIATING, Phase.REPLACING, Phase.DISASSOCIATING)
    )


@dataclass(frozen=True)
class Context:
    """Everything a pass needs besides the object and EKS."""

    region: str
    now: datetime
    timings: Timings
    gate: ClusterGate
    rng: random.Random
    attempt: int = 0
    """How many times in a row this object was retried (kopf's ``retry``), for backoff."""


def _as_observed(update: UpdateStatus) -> ObservedUpdate:
    return ObservedUpdate(
        id=update.id,
        type=update.type,
        status=update.status or "",
        created_at=update.created_at,
        errors=tuple(
            ObservedUpdateError(
                error_code=e.error_code,
                error_message=e.error_message,
                resource_ids=tuple(e.resource_ids),
            )
            for e in update.errors
        ),
    )


def _update_status(update: ObservedUpdate) -> UpdateStatus:
    return UpdateStatus(
        id=update.id,
        type=update.type,
        status=update.status,
        created_at=update.created_at,
        errors=[
            UpdateError(
                error_code=e.error_code,
                error_message=e.error_message,
                resource_ids=list(e.resource_ids),
            )
            for e in update.errors
        ],
    )


def reconcile(obj: OidcIdentityProvider, eks: EksPort, ctx: Context) -> Outcome:
    """One pass for ``obj``: create/update/resume, timer polls and deletion all come here."""
    gate_key = (ctx.region, obj.spec.cluster_name)
    owner = obj.metadata.uid or f"{obj.metadata.namespace}/{obj.metadata.name}"
    try:
        observation = _observe(obj, eks)
        decision = decide(obj, observation, now=ctx.now, slow_retry=ctx.timings.slow_retry_base)
        outcome = _act(obj, eks, ctx, decision, observation, gate_key, owner)
    except EksError as error:
        outcome = fail(obj, ctx, error)
    if not outcome.in_flight:
        # The gate is held from a mutating call until its update ends. It only saves calls
        # (EKS's 409 guards correctness), so releasing it on any doubt is safe.
        ctx.gate.release(gate_key, owner)
    return outcome


def _observe(obj: OidcIdentityProvider, eks: EksPort) -> Observation:
    cluster, name = obj.spec.cluster_name, obj.config_name
    tracked = obj.status.update
    update: ObservedUpdate | None = None
    if tracked is not None and tracked.status == IN_PROGRESS:
        update = eks.describe_update(cluster, tracked.id)
        if update is not None and update.status == IN_PROGRESS:
            return Observation(config=None, update=update)
    elif tracked is not None and tracked.status:
        update = _as_observed(tracked)  # already final: no need to ask EKS again
    config = eks.describe_config(cluster, name)
    if config is None:
        missing = eks.describe_cluster(cluster) is None
        return Observation(config=None, update=update, cluster_missing=missing)
    in_transition = config.status in (ConfigStatus.CREATING, ConfigStatus.DELETING)
    unknown = update is None and obj.status.identity_provider_config_arn != config.arn
    if (in_transition and (update is None or update.status != IN_PROGRESS)) or unknown:
        # A config whose update we do not know: after a crash between the Associate call and
        # the status write (whether or not EKS has finished since), or one started outside.
        # Find it, never repeat it. Once the ARN is recorded this lookup does not recur.
        kind = DISASSOCIATE if config.status == ConfigStatus.DELETING else ASSOCIATE
        recovered = eks.find_config_update(cluster, name, kind)
        if recovered is not None:
            update = recovered
    return Observation(config=config, update=update)


def _act(
    obj: OidcIdentityProvider,
    eks: EksPort,
    ctx: Context,
    decision: Decision,
    obs: Observation,
    gate_key: tuple[str, str],
    owner: str,
) -> Outcome:
    cluster, name = obj.spec.cluster_name, obj.config_name
    config = obs.config
    if decision.step in (Step.ASSOCIATE, Step.DISASSOCIATE):
        other = ctx.gate.acquire(gate_key, owner)
        if other is not None:
            return _busy(obj, ctx, f"another object ({other}) is updating cluster {cluster}")
        if decision.step is Step.ASSOCIATE:
            update = eks.associate(
                cluster, name, obj.spec.oidc, obj.spec.tags or {}, association_token(obj)
            )
            event = Event("Normal", "Associating", f"{decision.message} (EKS update {update.id})")
            outcome = _finish(
                obj, ctx, decision, obs, update=update, config_status=ConfigStatus.CREATING
            )
        else:
            if config is None:  # decide() disassociates only a config it saw
                raise _impossible(decision)
            update = eks.disassociate(cluster, name, disassociation_token(obj, config))
            event = Event(
                "Normal", decision.events[0].reason, f"{decision.message} (EKS update {update.id})"
            )
            outcome = _finish(
                obj, ctx, decision, obs, update=update, config_status=ConfigStatus.DELETING
            )
        outcome.events = [*(e for e in decision.events if e.type == "Warning"), event]
        if obj.metadata.deletion_timestamp is not None:
            outcome.requeue_after = ctx.timings.poll_initial
        return outcome
    if decision.step is Step.SYNC_TAGS:
        if config is None or decision.tags is None:
            raise _impossible(decision)
        if decision.tags.to_set:
            eks.tag(config.arn, decision.tags.to_set)
        if decision.tags.to_remove:
            eks.untag(config.arn, decision.tags.to_remove)
        synced = config.model_copy(update={"tags": dict(obj.spec.tags or {})})
        ready = decide(
            obj, Observation(config=synced), now=ctx.now, slow_retry=ctx.timings.slow_retry_base
        )
        outcome = _finish(obj, ctx, ready, Observation(config=synced))
        changed = sorted([*decision.tags.to_set, *decision.tags.to_remove])
        outcome.events.append(
            Event("Normal", "TagsUpdated", f"Tags of config {name} synced: {', '.join(changed)}")
        )
        return outcome
    outcome = _finish(obj, ctx, decision, obs, update=obs.update)
    if decision.step is Step.RETRY:
        outcome.requeue_after = backoff(
            ctx.attempt, ctx.timings.retry_base, ctx.timings.retry_max, ctx.timings.jitter, ctx.rng
        )
    elif decision.step is Step.STALL and decision.policy is not None:
        outcome.requeue_after = _policy_delay(decision.policy, ctx)
    elif decision.step is Step.WAIT and obj.metadata.deletion_timestamp is not None:
        # The timer does not run on deleted objects: the delete handler polls by retrying.
        outcome.requeue_after = poll_delay(ctx.attempt, ctx.timings)
    elif decision.step is Step.RELEASE:
        outcome.release = True
    return outcome


def _impossible(decision: Decision) -> RuntimeError:
    return RuntimeError(f"decision {decision.step} without the observation it needs")


def _policy_delay(policy: ErrorPolicy, ctx: Context) -> float | None:
    t = ctx.timings
    if policy.retry is Retry.NEVER:
        return None
    if policy.retry is Retry.SLOW:
        return backoff(ctx.attempt, t.slow_retry_base, t.slow_retry_max, t.jitter, ctx.rng)
    return backoff(ctx.attempt, t.retry_base, t.retry_max, t.jitter, ctx.rng)


def _busy(obj: OidcIdentityProvider, ctx: Context, message: str) -> Outcome:
    decision = Decision(
        Step.RETRY, obj.status.phase or Phase.PENDING, CLUSTER_UPDATE_IN_PROGRESS, message
    )
    outcome = _finish(obj, ctx, decision, Observation(config=None), keep_config=True)
    outcome.requeue_after = backoff(
        ctx.attempt, ctx.timings.poll_initial, ctx.timings.poll_max, ctx.timings.jitter, ctx.rng
    )
    return outcome


def fail(obj: OidcIdentityProvider, ctx: Context, error: EksError) -> Outcome:
    """The outcome of a pass that an EKS (or SDK) error ended, per the error table."""
    policy = api_error_policy(error.code)
    message = f"{error.operation}: {error.message}"
    phase = Phase.FAILED if policy.stalled else (obj.status.phase or Phase.PENDING)
    step = Step.STALL if policy.stalled else Step.RETRY
    decision = Decision(
        step,
        phase,
        policy.reason,
        message,
        events=(Event("Warning", policy.reason, message),),
        policy=policy,
    )
    outcome = _finish(obj, ctx, decision, Observation(config=None), keep_config=True)
    outcome.requeue_after = _policy_delay(policy, ctx)
    return outcome


def _finish(
    obj: OidcIdentityProvider,
    ctx: Context,
    decision: Decision,
    obs: Observation,
    *,
    update: ObservedUpdate | None = None,
    config_status: ConfigStatus | None = None,
    keep_config: bool = False,
) -> Outcome:
    """Build the new status (and the events worth posting) from a decision."""
    previous = obj.status
    config = obs.config
    arn = previous.identity_provider_config_arn
    if config is not None and (arn == config.arn or decision.adopt):
        arn = config.arn
    status_of_config: ConfigStatus | None
    if keep_config:
        status_of_config = previous.config_status
    elif config_status is not None:  # an update was just started
        status_of_config = config_status
    elif config is not None:
        status_of_config = ConfigStatus(config.status)
    elif update is not None and update.status == IN_PROGRESS:  # config not looked at
        status_of_config = previous.config_status
    else:  # looked at, and gone
        status_of_config = None
    if decision.step is Step.READY:
        wanted = conditions.ready(decision.reason, decision.message)
    elif decision.step is Step.STALL:
        wanted = conditions.stalled(decision.reason, decision.message)
    else:
        wanted = conditions.reconciling(decision.reason, decision.message)
    new_conditions = conditions.apply_conditions(
        previous.conditions, wanted, now=ctx.now, generation=obj.metadata.generation
    )
    update_status = _update_status(update) if update is not None else previous.update
    status = OidcIdentityProviderStatus(
        observed_generation=obj.metadata.generation,
        phase=decision.phase,
        region=ctx.region,
        identity_provider_config_name=obj.config_name,
        identity_provider_config_arn=arn,
        config_status=status_of_config,
        update=update_status,
        conditions=new_conditions,
    )
    return Outcome(status=status, events=_worth_posting(previous, decision))


def _worth_posting(previous: OidcIdentityProviderStatus, decision: Decision) -> list[Event]:
    """Events on transitions only: a retry that ends the same way is not news."""
    if not decision.events:
        return []
    old = conditions.find(previous.conditions, "Ready")
    if old is not None and (old.reason, old.message) == (decision.reason, decision.message):
        return []
    return list(decision.events)
