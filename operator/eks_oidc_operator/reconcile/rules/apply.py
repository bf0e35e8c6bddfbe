"""Pure: the rules of an object that exists (create, update, resume, polls, resync), in order.

Each rule recognises one situation from the observation and returns the verdict for it, or
``None`` to pass. The chain in :mod:`eks_oidc_operator.reconcile.rules` tries them in the order
of :data:`RULES`; a rule may rely on the ones before it having passed (said where it does).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from eks_oidc_operator import constants
from eks_oidc_operator.models import AdoptionPolicy, ConfigStatus, Phase
from eks_oidc_operator.reconcile import reasons
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.error_policy import ErrorPolicy, update_error_policy
from eks_oidc_operator.reconcile.limits import provider_limit
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import (
    Associate,
    Call,
    Event,
    HoldOrder,
    Kind,
    Tag,
    Untag,
    Verdict,
)
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.replacement.delta import tag_delta
from eks_oidc_operator.reconcile.rules import replace
from eks_oidc_operator.reconcile.rules.common import (
    eks_error,
    in_progress_message,
    outside_disassociation,
    stalled_on,
    warned_stall,
)
from eks_oidc_operator.reconcile.rules.failures import after_failure, retries_left
from eks_oidc_operator.reconcile.rules.replace import keeps_serving, noting_the_old_config
from eks_oidc_operator.reconcile.timing import Backoff
from eks_oidc_operator.reconcile.tokens import association_token

DISASSOCIATE = constants.UPDATE_DISASSOCIATE


def limit_refused(obs: Observation, ctx: Context) -> Verdict | None:
    """EKS refused our Associate with ``InvalidRequestException`` although this pass saw the
    cluster ACTIVE and the config absent: what is left is a limit (the combined size of the
    cluster's configs, or a provider count the pre-flight could not know). Stalled; looked at
    again only after the slow retry cap, since only a change outside the spec frees room."""
    error, cluster = obs.error, obs.cluster
    if error is None or error.operation != constants.UPDATE_ASSOCIATE:
        return None
    if error.code != "InvalidRequestException" or cluster is None or cluster.status != "ACTIVE":
        return None
    message = (
        f"EKS refused config {obs.config_name} on cluster {cluster.name} for a limit "
        f"(identity providers per cluster, or their combined size): {error.message}"
    )
    return warned_stall(
        reasons.PROVIDER_LIMIT_EXCEEDED, message, hold=HoldOrder(after=ctx.timings.slow_retry_max)
    )


def owned_by_another(obs: Observation, ctx: Context) -> Verdict | None:
    """The config's owner tag names another object: never tag, replace or disassociate it."""
    owner = obs.owned_by_another
    if owner is None:
        return None
    obj = obs.obj
    message = (
        f"Config {obs.config_name} on cluster {obj.spec.cluster_name} is owned by {owner} "
        f"(tag {constants.OWNER_TAG}); this object leaves it alone. Use another "
        "spec.oidc.identityProviderConfigName, or delete the owner's object"
    )
    return warned_stall(
        reasons.CONFIG_OWNED_BY_ANOTHER, message, hold=HoldOrder(after=ctx.timings.slow_retry_max)
    )


def not_adopted(obs: Observation, ctx: Context) -> Verdict | None:
    """An untagged config that none of our updates made, and adopting it is not allowed: the
    spec forbids it, or the tenancy policy does not grant adoption. Left alone, with nothing
    about it told (not even which fields differ): it may be another team's."""
    if obs.config is None or obs.config_owner is not None or obs.created_by_us:
        return None
    obj = obs.obj
    exists = (
        f"Config {obs.config_name} already exists on cluster {obj.spec.cluster_name} and was "
        "not created by this object"
    )
    if not obs.checks.may_adopt:
        message = (
            f"{exists}; the tenancy policy does not let namespace {obj.metadata.namespace} adopt "
            "configs the operator did not create (the admin grants it with adopt: true on a "
            "rule), so it is left alone. Use another spec.oidc.identityProviderConfigName"
        )
        # keep_recorded: not even its ARN or status is written into this object's status.
        return warned_stall(
            reasons.ADOPTION_NOT_PERMITTED, message, hold=_until_recheck(ctx), keep_recorded=True
        )
    if obj.spec.adoption_policy is not AdoptionPolicy.NEVER:
        return None
    message = (
        f"{exists}; spec.adoptionPolicy is Never, so it is left alone. Delete it, or set "
        "spec.adoptionPolicy to Matching"
    )
    return warned_stall(reasons.NOT_ADOPTED, message, hold=_until_recheck(ctx))


def outside_disassociation_in_flight(obs: Observation, ctx: Context) -> Verdict | None:
    """A disassociation that this object did not start is running: drift, wait it out."""
    update = obs.in_progress
    if update is None or update.type != DISASSOCIATE:
        return None
    if obs.tracked is not None and obs.tracked.id == update.id:
        return None
    return Verdict(
        Kind.WAIT,
        Phase.REPLACING,
        reasons.DRIFT_DETECTED,
        in_progress_message(update),
        events=(outside_disassociation(obs),),
        adopt=_matches(obs),
    )


def update_in_flight(obs: Observation, ctx: Context) -> Verdict | None:
    """Our (or a recovered) update is running: wait; outside deletion a disassociation, or an
    association next to an old config, is part of a replacement."""
    update = obs.in_progress
    if update is None:
        return None
    # A config seen CREATING with a matching spec is ours to follow, even when the crash came
    # before its ARN reached status: record it now.
    if update.type == DISASSOCIATE:
        message = in_progress_message(update)
        return Verdict(Kind.WAIT, Phase.REPLACING, reasons.REPLACING, message, adopt=_matches(obs))
    return _making(obs.replacing, in_progress_message(update), adopt=_matches(obs))


def cluster_missing(obs: Observation, ctx: Context) -> Verdict | None:
    """No such cluster (yet): GitOps may create it after the object, so retry with backoff."""
    if obs.config is not None or not obs.cluster_missing:
        return None
    cluster = obs.obj.spec.cluster_name
    return Verdict(
        Kind.RETRY,
        Phase.PENDING,
        reasons.CLUSTER_NOT_FOUND,
        f"EKS cluster {cluster} does not exist (yet); retrying with growing backoff",
        events=(
            Event(EventType.WARNING, reasons.CLUSTER_NOT_FOUND, f"No EKS cluster named {cluster}"),
        ),
        retry=Backoff.TRANSIENT,
    )


def update_failed(obs: Observation, ctx: Context) -> Verdict | None:
    """Our association failed and left nothing behind: stalled, then retried a bounded number
    of times (see :mod:`~.failures`). In a make-before-break replacement the old config still
    serves, and the condition says so."""
    failed = obs.failed
    if obs.config is not None or failed is None:
        return None
    return noting_the_old_config(obs, after_failure(obs, ctx, failed, _associate(obs, ctx)))


def failed_config_lingers(obs: Observation, ctx: Context) -> Verdict | None:
    """The update failed but EKS still shows the config CREATING (it is removed later, there is
    no FAILED status): no call until EKS collects it. While automatic retries of the code
    remain that is progress (the failure in the message, as after any failed update); with
    none left it is Stalled; for a code that only a new spec fixes, held at once."""
    failed, config = obs.failed, obs.config
    if failed is None or config is None or config.status != ConfigStatus.CREATING:
        return None
    if obs.differences:
        return None
    policy = _policy_of(obs)
    stalled = noting_the_old_config(obs, stalled_on(failed, policy))
    if policy.retry is None:
        return dataclasses.replace(stalled, retry=None, hold=HoldOrder())
    if not retries_left(obs, policy):
        return stalled
    phase = Phase.REPLACING if obs.previous is not None else Phase.ASSOCIATING
    return dataclasses.replace(stalled, kind=Kind.RETRY, phase=phase)


def config_removed_outside(obs: Observation, ctx: Context) -> Verdict | None:
    """Our ACTIVE config is gone, and not through a failed update: drift, associate again."""
    status = obs.obj.status
    if obs.config is not None or obs.failed is not None:
        return None
    if not obs.recorded_arn or status.config_status != ConfigStatus.ACTIVE:
        return None
    name, cluster = obs.config_name, obs.obj.spec.cluster_name
    drift = Event(
        EventType.WARNING,
        reasons.DRIFT_DETECTED,
        f"Config {name} is no longer associated with cluster {cluster} "
        "(removed outside the operator); associating it again",
    )
    return dataclasses.replace(_associate(obs, ctx), notices=(drift,))


def config_missing(obs: Observation, ctx: Context) -> Verdict | None:
    """Nothing of that name on the cluster: associate."""
    if obs.config is not None:
        return None
    return _associate(obs, ctx)


def config_deleting_outside(obs: Observation, ctx: Context) -> Verdict | None:
    """Our config is DELETING and we did not ask for it: drift, wait until EKS has removed it."""
    config, tracked = obs.config, obs.tracked
    if config is None or config.status != ConfigStatus.DELETING or not obs.created_by_us:
        return None
    if tracked is not None and tracked.type == DISASSOCIATE:
        return None
    return dataclasses.replace(
        _deleting(obs, Phase.REPLACING), events=(outside_disassociation(obs),)
    )


def config_deleting(obs: Observation, ctx: Context) -> Verdict | None:
    """The config is DELETING (our replacement, or someone else's): wait until it is gone."""
    config = obs.config
    if config is None or config.status != ConfigStatus.DELETING:
        return None
    return _deleting(obs, Phase.REPLACING if obs.created_by_us else Phase.ASSOCIATING)


def config_creating(obs: Observation, ctx: Context) -> Verdict | None:
    """The matching config is CREATING: wait for EKS (recording its ARN if not yet recorded)."""
    config = obs.config
    if config is None or config.status != ConfigStatus.CREATING:
        return None
    old = obs.previous.name if obs.previous is not None else None
    message = f"Config {obs.config_name} is CREATING in EKS"
    return _making(old, message, adopt=_unrecorded(obs))


def tags_drifted(obs: Observation, ctx: Context) -> Verdict | None:
    """The config matches but its tags do not: re-tag in place; the pass then ends in sync."""
    config = obs.config
    if config is None:
        return None
    delta = tag_delta(_desired_tags(obs), config.tags)
    if delta.empty:
        return None
    calls: list[Call] = []
    if delta.to_set:
        calls.append(Tag(config.arn, delta.to_set))
    if delta.to_remove:
        calls.append(Untag(config.arn, delta.to_remove))
    changed = ", ".join(sorted([*delta.to_set, *delta.to_remove]))
    synced = Event(
        EventType.NORMAL,
        reasons.TAGS_UPDATED,
        f"Tags of config {obs.config_name} synced: {changed}",
    )
    return dataclasses.replace(in_sync(obs, ctx), calls=tuple(calls), notices=(synced,))


def in_sync(obs: Observation, ctx: Context) -> Verdict:
    """The config is ACTIVE and matches the spec: Ready. Announced when it first becomes so, or
    when it is adopted (a matching config that none of our associations created)."""
    config = obs.config
    if config is None:  # every earlier rule passed, so there is a config; say so to mypy
        raise ValueError("in_sync needs a config")
    cluster = obs.obj.spec.cluster_name
    events: tuple[Event, ...] = ()
    if not obs.created_by_us:
        adopted = (
            f"Config {obs.config_name} already existed on cluster {cluster} with matching "
            "settings and no owner tag; adopted it (and tagged it as this object's)"
        )
        events = (Event(EventType.NORMAL, reasons.ADOPTED, adopted),)
    elif obs.obj.status.phase != Phase.ACTIVE:
        associated = f"Config {obs.config_name} is ACTIVE on cluster {cluster}"
        events = (Event(EventType.NORMAL, reasons.ASSOCIATED, associated),)
    return Verdict(
        Kind.READY,
        Phase.ACTIVE,
        reasons.ACTIVE,
        f"Config {obs.config_name} is ACTIVE on cluster {cluster} and matches the spec",
        events=events,
        adopt=_unrecorded(obs),
    )


RULES = (
    replace.successor_refused,
    limit_refused,
    eks_error,
    owned_by_another,
    not_adopted,
    outside_disassociation_in_flight,
    update_in_flight,
    cluster_missing,
    update_failed,
    failed_config_lingers,
    replace.replacement_failed,
    config_removed_outside,
    config_missing,
    config_deleting_outside,
    config_deleting,
    *replace.RULES,
    config_creating,
    tags_drifted,
    in_sync,
)
"""The apply chain, first match wins. ``in_sync`` is last and always matches."""


def _associate(obs: Observation, ctx: Context) -> Verdict:
    """Associate, unless the cluster has no room left for another provider (then nothing is
    sent: EKS's refusal would read like a transient one)."""
    obj = obs.obj
    name, cluster = obs.config_name, obj.spec.cluster_name
    full = _provider_limit_reached(obs, ctx)
    if full is not None:
        return full
    token = association_token(obj, name)
    call = Associate(cluster, name, obj.spec.oidc, _desired_tags(obs), token)
    if obs.previous is not None:
        message = f"Associating config {name} next to {obs.previous.name} on cluster {cluster}"
        return _making(obs.previous.name, message, calls=(call,))
    return _making(None, f"Associating config {name} with cluster {cluster}", calls=(call,))


def _making(old: str | None, message: str, **extra: Any) -> Verdict:
    """Waiting for a config being made: Associating, or, next to the ``old`` config of a
    make-before-break replacement, Replacing (and the message says the old one serves)."""
    if old is None:
        return Verdict(Kind.WAIT, Phase.ASSOCIATING, reasons.ASSOCIATING, message, **extra)
    message = f"{message}; {keeps_serving(old)}"
    return Verdict(Kind.WAIT, Phase.REPLACING, reasons.REPLACING, message, **extra)


def _provider_limit_reached(obs: Observation, ctx: Context) -> Verdict | None:
    cluster = obs.cluster
    limit = provider_limit(cluster.version) if cluster is not None else None
    if cluster is None or limit is None or len(obs.neighbours) < limit:
        return None
    message = (
        f"Cluster {cluster.name} (Kubernetes {cluster.version}) already has {len(obs.neighbours)} "
        f"identity provider config(s) ({', '.join(obs.neighbours)}), the most EKS allows on that "
        f"version ({limit}); nothing was sent. Remove one, or upgrade the cluster "
        "(Kubernetes 1.32 allows 10)"
    )
    return warned_stall(
        reasons.PROVIDER_LIMIT_REACHED, message, hold=HoldOrder(after=ctx.timings.slow_retry_max)
    )


def _until_recheck(ctx: Context) -> HoldOrder:
    """The hold of a refusal a change outside the spec may lift (another config removed, the
    owner deleted): looked at again after the slow retry cap."""
    return HoldOrder(after=ctx.timings.slow_retry_max)


def _desired_tags(obs: Observation) -> dict[str, str]:
    """The config's whole tag set: the spec's, and the ownership tags naming this object."""
    return {**(obs.obj.spec.tags or {}), **obs.me.tags}


def _deleting(obs: Observation, phase: Phase) -> Verdict:
    message = f"Config {obs.config_name} is DELETING in EKS"
    return Verdict(Kind.WAIT, phase, reasons.WAITING_FOR_DISASSOCIATION, message)


def _matches(obs: Observation) -> bool:
    return obs.config is not None and not obs.differences


def _unrecorded(obs: Observation) -> bool:
    """The observed config's ARN is not the one status records (so record it)."""
    return obs.config is not None and obs.recorded_arn != obs.config.arn


def _policy_of(obs: Observation) -> ErrorPolicy:
    failed = obs.failed
    code = failed.errors[0].error_code if failed is not None and failed.errors else None
    return update_error_policy(code)
