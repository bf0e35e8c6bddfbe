"""Pure: from (spec, status, what EKS reports now) to the one next step. No I/O, no kopf.

The reconciler observes EKS, asks :func:`decide` what to do, does it, and writes status. Every
case of DESIGN.md §2 is a branch here, table-tested in ``tests/unit/reconcile/test_decision.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from eks_oidc_operator import constants
from eks_oidc_operator.eks.types import ObservedConfig, ObservedUpdate
from eks_oidc_operator.models import (
    ConditionStatus,
    ConfigStatus,
    DeletionPolicy,
    OidcIdentityProvider,
    Phase,
)
from eks_oidc_operator.reconcile import conditions
from eks_oidc_operator.reconcile.delta import TagDelta, oidc_differences, tag_delta
from eks_oidc_operator.reconcile.errors import (
    CLUSTER_NOT_FOUND,
    CONFIG_CONFLICT,
    ErrorPolicy,
    Retry,
    update_error_policy,
)

ASSOCIATE = constants.UPDATE_ASSOCIATE
DISASSOCIATE = constants.UPDATE_DISASSOCIATE
IN_PROGRESS = constants.UPDATE_IN_PROGRESS
FINISHED_BADLY = ("Failed", "Cancelled")


class Step(StrEnum):
    """What the reconciler does next."""

    WAIT = "Wait"
    """An update (or a CREATING/DELETING config) is in flight: poll it."""
    ASSOCIATE = "Associate"
    DISASSOCIATE = "Disassociate"
    SYNC_TAGS = "SyncTags"
    READY = "Ready"
    RETRY = "Retry"
    """Nothing to call now; come back after a backoff (cluster missing)."""
    STALL = "Stall"
    """Needs a human; retried only as the policy says."""
    RELEASE = "Release"
    """Deletion is complete: the finalizer may go."""


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to post: ``Normal`` for progress, ``Warning`` for errors."""

    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Observation:
    """What EKS reports now, as far as the decision needs it."""

    config: ObservedConfig | None
    update: ObservedUpdate | None = None
    """The tracked (``status.update.id``) or recovered update, freshly described."""
    cluster_missing: bool = False
    """DescribeCluster said 404. Only looked up when the config is missing."""


@dataclass(frozen=True)
class Decision:
    """The next step, with the words status and events will carry."""

    step: Step
    phase: Phase
    reason: str
    message: str
    events: tuple[Event, ...] = ()
    tags: TagDelta | None = None
    policy: ErrorPolicy | None = None
    adopt: bool = False
    """Record the observed config's ARN as ours (adoption, or recovery after a crash)."""
    replacing: bool = False


def association_token(obj: OidcIdentityProvider) -> str:
    """A deterministic ``clientRequestToken`` for the next AssociateIdentityProviderConfig.

    Same object, generation and last known update -> same token, so a call repeated after a
    crash is replayed by EKS instead of creating a second association. A retry after a failed
    update, or a re-association after drift, follows a different last update and so gets a
    fresh token (a reused token would only replay the old outcome).
    """
    base = obj.spec.client_request_token or obj.metadata.uid or obj.metadata.name
    last = obj.status.update.id if obj.status.update else ""
    salt = hashlib.sha256(last.encode()).hexdigest()[:8] if last else "0"
    return f"{base}-g{obj.metadata.generation}-{salt}"[:64]


def disassociation_token(obj: OidcIdentityProvider, config: ObservedConfig) -> str:
    """Deterministic per config instance (its ARN): repeating a disassociation is a replay."""
    digest = hashlib.sha256(config.arn.encode()).hexdigest()[:16]
    base = obj.metadata.uid or obj.metadata.name
    return f"{base}-d-{digest}"[:64]


def _failed_update(obj: OidcIdentityProvider, obs: Observation) -> ObservedUpdate | None:
    update = obs.update
    if update is None or update.status not in FINISHED_BADLY:
        return None
    return update


def _failure_message(update: ObservedUpdate) -> str:
    parts = []
    for error in update.errors:
        text = error.error_message or "no message"
        if error.resource_ids:
            text += f" (resources: {', '.join(error.resource_ids)})"
        parts.append(text)
    return "; ".join(parts) or f"EKS update {update.id} ended {update.status}"


def _retry_due(obj: OidcIdentityProvider, policy: ErrorPolicy, now: datetime, slow: float) -> bool:
    """Whether a stalled failure may be retried now (a new generation always may)."""
    stalled = conditions.find(obj.status.conditions, constants.CONDITION_STALLED)
    if stalled is None or stalled.status != ConditionStatus.TRUE:
        return False
    if stalled.observed_generation != obj.metadata.generation:
        return True
    if policy.retry is Retry.NEVER:
        return False
    return now >= stalled.last_transition_time + timedelta(seconds=slow)


def _wait_phase(update: ObservedUpdate) -> tuple[Phase, str]:
    if update.type == DISASSOCIATE:  # outside deletion, a disassociation is a replacement
        return Phase.REPLACING, "Replacing"
    return Phase.ASSOCIATING, "Associating"


def decide(
    obj: OidcIdentityProvider, obs: Observation, *, now: datetime, slow_retry: float
) -> Decision:
    """The next step for ``obj`` given what EKS reports (``obs``)."""
    if obj.metadata.deletion_timestamp is not None:
        return _decide_delete(obj, obs)
    return _decide_apply(obj, obs, now=now, slow_retry=slow_retry)


def _decide_apply(
    obj: OidcIdentityProvider, obs: Observation, *, now: datetime, slow_retry: float
) -> Decision:
    name, cluster = obj.config_name, obj.spec.cluster_name
    if obs.update is not None and obs.update.status == IN_PROGRESS:
        phase, reason = _wait_phase(obs.update)
        # A config seen CREATING with a matching spec is ours to follow, even when the crash
        # came before its ARN reached status: record it now.
        adopt = obs.config is not None and not oidc_differences(obj.spec.oidc, obs.config)
        tracked = obj.status.update
        drift: tuple[Event, ...] = ()
        if obs.update.type == DISASSOCIATE and (tracked is None or tracked.id != obs.update.id):
            reason = "DriftDetected"
            drift = (_outside_disassociation(name, cluster),)
        return Decision(
            Step.WAIT,
            phase,
            reason,
            f"EKS update {obs.update.id} ({obs.update.type}) in progress",
            events=drift,
            adopt=adopt,
        )
    failed = _failed_update(obj, obs)
    config = obs.config
    if config is None:
        if obs.cluster_missing:
            return Decision(
                Step.RETRY,
                Phase.PENDING,
                CLUSTER_NOT_FOUND,
                f"EKS cluster {cluster} does not exist (yet); retrying with growing backoff",
                events=(Event("Warning", CLUSTER_NOT_FOUND, f"No EKS cluster named {cluster}"),),
            )
        if failed is not None:
            policy = update_error_policy(failed.errors[0].error_code if failed.errors else None)
            if not _retry_due(obj, policy, now, slow_retry):
                return _stall_on_failure(failed, policy)
        events: tuple[Event, ...] = ()
        was_active = obj.status.config_status == ConfigStatus.ACTIVE and failed is None
        if obj.status.identity_provider_config_arn and was_active:
            events = (
                Event(
                    "Warning",
                    "DriftDetected",
                    f"Config {name} is no longer associated with cluster {cluster} "
                    "(removed outside the operator); associating it again",
                ),
            )
        return Decision(
            Step.ASSOCIATE,
            Phase.ASSOCIATING,
            "Associating",
            f"Associating config {name} with cluster {cluster}",
            events=events,
        )

    differences = oidc_differences(obj.spec.oidc, config)
    ours = _created_by_us(obj, config, obs)
    if config.status == ConfigStatus.DELETING:
        phase = Phase.REPLACING if ours else Phase.ASSOCIATING
        tracked = obj.status.update
        drift = ()
        if ours and not (tracked is not None and tracked.type == DISASSOCIATE):
            drift = (_outside_disassociation(name, cluster),)
        return Decision(
            Step.WAIT,
            phase,
            "WaitingForDisassociation",
            f"Config {name} is DELETING in EKS",
            events=drift,
        )
    if differences:
        if not ours:
            message = (
                f"Config {name} already exists on cluster {cluster} with other settings "
                f"({', '.join(differences)}); it was not created by this object, so it is "
                "left alone. Delete it, or change spec.oidc.identityProviderConfigName."
            )
            return Decision(
                Step.STALL,
                Phase.FAILED,
                CONFIG_CONFLICT,
                message,
                events=(Event("Warning", CONFIG_CONFLICT, message),),
                policy=ErrorPolicy(CONFIG_CONFLICT, Retry.NEVER),
            )
        if config.status == ConfigStatus.CREATING:
            return Decision(
                Step.WAIT,
                Phase.REPLACING,
                "Replacing",
                f"Waiting for config {name} to finish CREATING before replacing it",
            )
        message = (
            f"{', '.join(differences)} changed; EKS cannot edit a config, so {name} is "
            "disassociated and associated again"
        )
        return Decision(
            Step.DISASSOCIATE,
            Phase.REPLACING,
            "Replacing",
            message,
            events=(Event("Normal", "Replacing", message),),
            replacing=True,
        )

    # Record the ARN when it is not recorded yet; announce an adoption only for a config that
    # none of our own associations created.
    adopt = obj.status.identity_provider_config_arn != config.arn
    foreign = not ours
    if config.status == ConfigStatus.CREATING:
        if failed is not None:
            policy = update_error_policy(failed.errors[0].error_code if failed.errors else None)
            return _stall_on_failure(failed, policy)
        return Decision(
            Step.WAIT,
            Phase.ASSOCIATING,
            "Associating",
            f"Config {name} is CREATING in EKS",
            adopt=adopt,
        )
    delta = tag_delta(obj.spec.tags, config.tags)
    if not delta.empty:
        return Decision(
            Step.SYNC_TAGS,
            Phase.ACTIVE,
            "SyncingTags",
            f"Updating tags of config {name}",
            tags=delta,
            adopt=adopt,
        )
    return _ready(obj, config, adopt=adopt, foreign=foreign)


def _announced(
    step: Step, phase: Phase, reason: str, message: str, *, type_: str = "Normal"
) -> Decision:
    """A decision whose event says the same as its condition."""
    return Decision(step, phase, reason, message, events=(Event(type_, reason, message),))


def _outside_disassociation(name: str, cluster: str) -> Event:
    return Event(
        "Warning",
        "DriftDetected",
        f"Config {name} is being disassociated from cluster {cluster} outside the operator; "
        "it will be associated again once EKS has removed it",
    )


def _created_by_us(obj: OidcIdentityProvider, config: ObservedConfig, obs: Observation) -> bool:
    """Whether ``config`` is this object's: its recorded ARN, or made by our tracked update.

    The Associate response carries no ARN, so right after our own association the ARN is not
    in status yet; the tracked update (stored before anything else) vouches for the config.
    """
    if obj.status.identity_provider_config_arn == config.arn:
        return True
    tracked = obj.status.update
    return (
        tracked is not None
        and obs.update is not None
        and obs.update.id == tracked.id
        and obs.update.type == ASSOCIATE
        and (not obs.update.config_names or config.name in obs.update.config_names)
    )


def _ready(
    obj: OidcIdentityProvider, config: ObservedConfig, *, adopt: bool, foreign: bool
) -> Decision:
    events: tuple[Event, ...] = ()
    cluster = obj.spec.cluster_name
    if foreign:
        events = (
            Event(
                "Normal",
                "Adopted",
                f"Config {config.name} already existed on cluster {cluster} with matching "
                "settings; adopted it",
            ),
        )
    elif obj.status.phase != Phase.ACTIVE:
        events = (
            Event("Normal", "Associated", f"Config {config.name} is ACTIVE on cluster {cluster}"),
        )
    return Decision(
        Step.READY,
        Phase.ACTIVE,
        "Active",
        f"Config {config.name} is ACTIVE on cluster {cluster} and matches the spec",
        events=events,
        adopt=adopt,
    )


def _stall_on_failure(update: ObservedUpdate, policy: ErrorPolicy) -> Decision:
    message = _failure_message(update)
    return Decision(
        Step.STALL,
        Phase.FAILED,
        policy.reason,
        message,
        events=(Event("Warning", policy.reason, message),),
        policy=policy,
    )


def _decide_delete(obj: OidcIdentityProvider, obs: Observation) -> Decision:
    name, cluster = obj.config_name, obj.spec.cluster_name
    if obj.spec.deletion_policy is DeletionPolicy.RETAIN:
        message = f"deletionPolicy is Retain: config {name} stays associated with {cluster}"
        return _announced(Step.RELEASE, Phase.DISASSOCIATING, "Retained", message)
    if obs.update is not None and obs.update.status == IN_PROGRESS:
        return Decision(
            Step.WAIT,
            Phase.DISASSOCIATING,
            "Disassociating",
            f"Waiting for EKS update {obs.update.id} ({obs.update.type}) before releasing",
        )
    if obs.cluster_missing:
        message = f"Cluster {cluster} no longer exists; nothing to disassociate"
        return _announced(Step.RELEASE, Phase.DISASSOCIATING, "ClusterGone", message)
    config = obs.config
    if config is None:
        message = f"Config {name} is not associated with cluster {cluster}"
        return _announced(Step.RELEASE, Phase.DISASSOCIATING, "Disassociated", message)
    recorded = obj.status.identity_provider_config_arn
    ours = recorded == config.arn or (
        recorded is None and not oidc_differences(obj.spec.oidc, config)
    )
    if not ours:
        message = (
            f"Config {name} on cluster {cluster} was not created by this object; left in place"
        )
        return _announced(Step.RELEASE, Phase.DISASSOCIATING, "NotOwned", message)
    if config.status in (ConfigStatus.CREATING, ConfigStatus.DELETING):
        return Decision(
            Step.WAIT,
            Phase.DISASSOCIATING,
            "Disassociating",
            f"Config {name} is {config.status} in EKS; waiting before it can be released",
        )
    message = f"Disassociating config {name} from cluster {cluster}"
    return _announced(Step.DISASSOCIATE, Phase.DISASSOCIATING, "Disassociating", message)
