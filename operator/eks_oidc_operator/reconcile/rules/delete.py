"""Pure: the rules of an object being deleted, in order; the finalizer goes on ``RELEASE``.

Deletion never leaves an association behind that this object made, and never removes one it
did not make. Every verdict that does not release comes back (the planner schedules it), so the
finalizer is never stuck waiting for a change that cannot come.
"""

from __future__ import annotations

from eks_oidc_operator import constants
from eks_oidc_operator.models import ConfigStatus, Phase
from eks_oidc_operator.reconcile import reasons
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import Disassociate, Kind, Verdict
from eks_oidc_operator.reconcile.rules.common import announced, eks_error
from eks_oidc_operator.reconcile.rules.failures import after_failure
from eks_oidc_operator.reconcile.tokens import disassociation_token

_PHASE = Phase.DISASSOCIATING


def deletion_waits_for_update(obs: Observation, ctx: Context) -> Verdict | None:
    """An update is running (our association, or a disassociation): EKS allows no other."""
    update = obs.in_progress
    if update is None:
        return None
    message = f"Waiting for EKS update {update.id} ({update.type}) before releasing"
    return Verdict(Kind.WAIT, _PHASE, reasons.DISASSOCIATING, message)


def cluster_gone(obs: Observation, ctx: Context) -> Verdict | None:
    """The cluster no longer exists: nothing to disassociate."""
    if not obs.cluster_missing:
        return None
    message = f"Cluster {obs.obj.spec.cluster_name} no longer exists; nothing to disassociate"
    return announced(Kind.RELEASE, _PHASE, reasons.CLUSTER_GONE, message)


def config_gone(obs: Observation, ctx: Context) -> Verdict | None:
    """The config is not (or no longer) associated: done."""
    if obs.config is not None:
        return None
    obj = obs.obj
    message = f"Config {obs.config_name} is not associated with cluster {obj.spec.cluster_name}"
    return announced(Kind.RELEASE, _PHASE, reasons.DISASSOCIATED, message)


def not_owned(obs: Observation, ctx: Context) -> Verdict | None:
    """The config of that name is not this object's: leave it in place.

    Ours is what its owner tag says; an untagged config (made before ownership tags, or by
    hand) only when status records its ARN. Every config this operator creates is tagged in the
    Associate call itself, so an untagged config whose ARN we never recorded is someone else's,
    even if it matches the spec (it may be one ``adoptionPolicy: Never`` left alone).
    """
    config = obs.config
    if config is None:
        return None
    by_tag = obs.mine_by_tag
    recorded = obs.recorded_arn == config.arn
    if by_tag or (by_tag is None and recorded):
        return None
    obj = obs.obj
    owner = obs.owned_by_another
    whose = f"is owned by {owner}" if owner is not None else "was not created by this object"
    message = f"Config {obs.config_name} on cluster {obj.spec.cluster_name} {whose}; left in place"
    return announced(Kind.RELEASE, _PHASE, reasons.NOT_OWNED, message)


def disassociation_failed(obs: Observation, ctx: Context) -> Verdict | None:
    """Our disassociation failed and the config is still there: stalled with EKS's code, then
    retried a bounded number of times (see :mod:`~.failures`)."""
    failed, config = obs.failed, obs.config
    if failed is None or failed.type != constants.UPDATE_DISASSOCIATE or config is None:
        return None
    return after_failure(obs, ctx, failed, disassociate(obs, ctx))


def deletion_waits_for_config(obs: Observation, ctx: Context) -> Verdict | None:
    """Our config is CREATING or DELETING: EKS accepts no disassociation until it settles."""
    config = obs.config
    if config is None or config.status not in (ConfigStatus.CREATING, ConfigStatus.DELETING):
        return None
    message = (
        f"Config {obs.config_name} is {config.status} in EKS; waiting before it can be released"
    )
    return Verdict(Kind.WAIT, _PHASE, reasons.DISASSOCIATING, message)


def disassociate(obs: Observation, ctx: Context) -> Verdict:
    """Our ACTIVE config: disassociate it, then poll until EKS says it is gone."""
    config = obs.config
    if config is None:  # config_gone passed, so there is a config; say so to mypy
        raise ValueError("disassociate needs a config")
    obj = obs.obj
    token = disassociation_token(obj, config, obs.update)
    return Verdict(
        Kind.WAIT,
        _PHASE,
        reasons.DISASSOCIATING,
        f"Disassociating config {obs.config_name} from cluster {obj.spec.cluster_name}",
        calls=(Disassociate(obj.spec.cluster_name, obs.config_name, token),),
    )


RULES = (
    eks_error,
    deletion_waits_for_update,
    cluster_gone,
    config_gone,
    not_owned,
    disassociation_failed,
    deletion_waits_for_config,
    disassociate,
)
"""The deletion chain, first match wins. ``disassociate`` is last and always matches."""
