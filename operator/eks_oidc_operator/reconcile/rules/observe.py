"""Pure: the rules of an object that only observes its config (``managementPolicy: Observe``).

No verdict here makes a call: the chain reads what gathering found and reports it. Ready means
what it means for a managed object (the config is ACTIVE and matches the spec); a difference is
drift, shown and never corrected; a config that is missing or settling is reported as EKS says.
Deletion never reaches this chain: an observing object is released before any AWS call.
"""

from __future__ import annotations

import dataclasses

from eks_oidc_operator.constants import OPERATOR_TAG_PREFIX
from eks_oidc_operator.models import ConfigStatus, Phase
from eks_oidc_operator.reconcile import reasons
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import Event, Kind, Verdict
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.replacement.delta import tag_delta
from eks_oidc_operator.reconcile.rules.common import eks_error

OBSERVE_ONLY = "spec.managementPolicy is Observe"


def observed_cluster_missing(obs: Observation, ctx: Context) -> Verdict | None:
    """No such cluster: nothing to observe. Looked at again at the next resync."""
    if obs.config is not None or not obs.cluster_missing:
        return None
    message = (
        f"{OBSERVE_ONLY}, and EKS cluster {obs.obj.spec.cluster_name} does not exist; looked at "
        "again at every resync"
    )
    return _warned(Kind.STALL, Phase.FAILED, reasons.CLUSTER_NOT_FOUND, message)


def observed_config_missing(obs: Observation, ctx: Context) -> Verdict | None:
    """The cluster has no config of that name: reported, never associated."""
    if obs.config is not None:
        return None
    message = (
        f"{OBSERVE_ONLY}, and cluster {obs.obj.spec.cluster_name} has no config "
        f"{obs.config_name}; the operator does not associate it (set spec.managementPolicy to "
        "Full for that)"
    )
    return _warned(Kind.STALL, Phase.FAILED, reasons.CONFIG_NOT_FOUND, message)


def observed_not_granted(obs: Observation, ctx: Context) -> Verdict | None:
    """The config is not this object's, and the tenancy policy does not let the namespace
    observe configs the operator did not create: nothing about it is told (observing would
    show another team's settings, field by field)."""
    if obs.config is None or obs.created_by_us or obs.checks.may_adopt:
        return None
    obj = obs.obj
    message = (
        f"Config {obs.config_name} on cluster {obj.spec.cluster_name} was not created by this "
        f"object, and the tenancy policy does not let namespace {obj.metadata.namespace} observe "
        "or adopt such configs (the admin grants it with adopt: true on a rule)"
    )
    # keep_recorded: not even its ARN or status is written into this object's status.
    return dataclasses.replace(
        _warned(Kind.STALL, Phase.FAILED, reasons.ADOPTION_NOT_PERMITTED, message),
        keep_recorded=True,
    )


def observed_config_settling(obs: Observation, ctx: Context) -> Verdict | None:
    """The config is CREATING or DELETING (someone's update runs): followed until it settles,
    with reads only."""
    config = obs.config
    if config is None or config.status not in (ConfigStatus.CREATING, ConfigStatus.DELETING):
        return None
    message = f"Config {obs.config_name} is {config.status} in EKS (observed only)"
    if config.status == ConfigStatus.CREATING:
        return Verdict(Kind.WAIT, Phase.ASSOCIATING, reasons.ASSOCIATING, message)
    return Verdict(Kind.WAIT, Phase.DISASSOCIATING, reasons.WAITING_FOR_DISASSOCIATION, message)


def observed_drift(obs: Observation, ctx: Context) -> Verdict | None:
    """The config differs from the spec: drift, shown (Stalled, a Warning once) and left alone."""
    differences = drift_of(obs)
    if not differences:
        return None
    message = (
        f"Config {obs.config_name} on cluster {obs.obj.spec.cluster_name} differs from the spec "
        f"({', '.join(differences)}); {OBSERVE_ONLY}, so it is not corrected"
    )
    return _warned(Kind.STALL, Phase.FAILED, reasons.DRIFT_DETECTED, message)


def observed_in_sync(obs: Observation, ctx: Context) -> Verdict:
    """The config is ACTIVE and matches the spec: Ready, announced when it first becomes so."""
    if obs.config is None:  # every earlier rule passed, so there is a config; say so to mypy
        raise ValueError("observed_in_sync needs a config")
    message = (
        f"Config {obs.config_name} is ACTIVE on cluster {obs.obj.spec.cluster_name} and matches "
        f"the spec ({OBSERVE_ONLY}: the operator does not change it)"
    )
    events = (Event(EventType.NORMAL, reasons.OBSERVED, message),)
    return Verdict(Kind.READY, Phase.ACTIVE, reasons.ACTIVE, message, events=events)


def drift_of(obs: Observation) -> list[str]:
    """The spec fields the observed config does not have. Tags count only when the spec sets
    them (then as the whole set, as a managed object's are); the operator's own ownership tags
    never count, since an observing object neither writes nor expects them."""
    config = obs.config
    if config is None:
        return []
    differences = obs.differences
    wanted = obs.obj.spec.tags
    if wanted is not None:
        theirs = {k: v for k, v in config.tags.items() if not k.startswith(OPERATOR_TAG_PREFIX)}
        if not tag_delta(wanted, theirs).empty:
            differences = [*differences, "spec.tags"]
    return differences


def _warned(kind: Kind, phase: Phase, reason: str, message: str) -> Verdict:
    return Verdict(
        kind, phase, reason, message, events=(Event(EventType.WARNING, reason, message),)
    )


RULES = (
    eks_error,
    observed_cluster_missing,
    observed_config_missing,
    observed_not_granted,
    observed_config_settling,
    observed_drift,
    observed_in_sync,
)
"""The observe chain, first match wins. ``observed_in_sync`` is last and always matches."""
