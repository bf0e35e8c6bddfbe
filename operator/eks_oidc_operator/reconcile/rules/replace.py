"""Pure: the rules of a replacement, the sub-chain the apply chain runs when EKS's config and
the spec part ways.

EKS cannot edit a config: new settings go into a second config under a derived name next to
the old one (make-before-break), or, when EKS cannot hold both or the policy says so, the old
one is disassociated first after the outage is announced. Which configs a pass looks at, and
which of them it works on, gathering decided
(:mod:`eks_oidc_operator.reconcile.replacement.reads`); these rules say what happens to them.

:data:`RULES` is one block of the apply chain, in order (the old config's state first, then the
spec's new settings); :func:`successor_refused` and :func:`replacement_failed` answer EKS's
refusals and sit where the apply chain handles errors and failed updates.
"""

from __future__ import annotations

import dataclasses

from eks_oidc_operator import constants
from eks_oidc_operator.models import ConfigStatus, Phase, ReplacementPolicy
from eks_oidc_operator.models.eks import ObservedConfig
from eks_oidc_operator.reconcile import conditions, reasons
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import Disassociate, Event, HoldOrder, Kind, Verdict
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.replacement.delta import normalised_issuer
from eks_oidc_operator.reconcile.replacement.successor import successor_name
from eks_oidc_operator.reconcile.rules.common import warned_stall
from eks_oidc_operator.reconcile.rules.failures import after_failure
from eks_oidc_operator.reconcile.timing import Backoff
from eks_oidc_operator.reconcile.tokens import disassociation_token

DISASSOCIATE = constants.UPDATE_DISASSOCIATE


def successor_refused(obs: Observation, ctx: Context) -> Verdict | None:
    """EKS refused the new config of a make-before-break replacement although the pre-checks
    passed: a limit only EKS counts (the combined size of the cluster's configs). The
    replacement falls back to deleting the old config first, for this generation; this pass
    only announces the outage, the next one starts it."""
    error, previous, cluster = obs.error, obs.previous, obs.cluster
    if error is None or error.operation != constants.UPDATE_ASSOCIATE or previous is None:
        return None
    # As for limit_refused: only an InvalidRequestException on a cluster this pass saw ACTIVE
    # is a limit. A cluster being upgraded answers the same way (retried, nothing deleted); an
    # InvalidParameterException is about the request itself, and deleting the old config would
    # leave nothing serving when the new one is refused again: it stalls, the old one serves.
    if error.code != "InvalidRequestException" or cluster is None or cluster.status != "ACTIVE":
        return None
    why = f"EKS refused the new config {obs.config_name} next to {previous.name}: {error.message}"
    return dataclasses.replace(_outage_ahead(obs, previous.name, why), fallback=why)


def replacement_failed(obs: Observation, ctx: Context) -> Verdict | None:
    """The disassociation that starts a delete-first replacement failed; the config is still
    there. (The old config of a make-before-break replacement has its own rule.)"""
    failed, config = obs.failed, obs.config
    if failed is None or failed.type != DISASSOCIATE or config is None or obs.previous:
        return None
    if not obs.differences:  # the spec went back to what the config has: nothing to replace
        return None
    # The outage was announced before the attempt that failed: a retry disassociates at once
    # (announcing again would spend every retry on the announcement).
    return after_failure(obs, ctx, failed, _delete_first(obs, config))


def previous_going(obs: Observation, ctx: Context) -> Verdict | None:
    """The old config of a replacement is DELETING: wait until EKS has removed it."""
    previous = obs.previous
    if previous is None or previous.status != ConfigStatus.DELETING:
        return None
    message = f"Config {obs.config_name} replaces {previous.name}, which EKS is removing (DELETING)"
    return Verdict(Kind.WAIT, Phase.REPLACING, reasons.WAITING_FOR_DISASSOCIATION, message)


def previous_settles(obs: Observation, ctx: Context) -> Verdict | None:
    """The other config is still CREATING (the spec went back to the old settings while the new
    config was being made): EKS accepts no disassociation until it is ACTIVE."""
    previous = obs.previous
    if previous is None or previous.status != ConfigStatus.CREATING:
        return None
    message = (
        f"Config {previous.name} is CREATING; it is disassociated once EKS has finished it, "
        f"since config {obs.config_name} has the spec's settings"
    )
    return Verdict(Kind.WAIT, Phase.REPLACING, reasons.REPLACING, message)


def previous_retires(obs: Observation, ctx: Context) -> Verdict | None:
    """The new config is ACTIVE and the old one still there (ACTIVE, since the rules above
    passed): disassociate the old one. Sign-in never stopped."""
    previous, config = obs.previous, obs.config
    if previous is None or config is None or config.status != ConfigStatus.ACTIVE:
        return None
    obj = obs.obj
    token = disassociation_token(obj, previous, obs.update)
    retire = Verdict(
        Kind.WAIT,
        Phase.REPLACING,
        reasons.REPLACING,
        f"Config {obs.config_name} is ACTIVE; disassociating the old config {previous.name}",
        calls=(Disassociate(obj.spec.cluster_name, previous.name, token),),
    )
    failed = obs.failed
    if failed is not None and failed.type == DISASSOCIATE:
        return after_failure(obs, ctx, failed, retire)
    return retire


def config_conflicts(obs: Observation, ctx: Context) -> Verdict | None:
    """A config of that name with other settings, not created by this object: leave it alone."""
    differences = obs.differences
    if not differences or obs.created_by_us:
        return None
    name, cluster = obs.config_name, obs.obj.spec.cluster_name
    message = (
        f"Config {name} already exists on cluster {cluster} with other settings "
        f"({', '.join(differences)}); it was not created by this object, so it is "
        "left alone. Delete it, or change spec.oidc.identityProviderConfigName."
    )
    return warned_stall(reasons.CONFIG_CONFLICT, message)


def replacement_waits_for_creation(obs: Observation, ctx: Context) -> Verdict | None:
    """spec.oidc changed while our config is still CREATING: EKS must finish it first."""
    config = obs.config
    if config is None or config.status != ConfigStatus.CREATING or not obs.differences:
        return None
    return Verdict(
        Kind.WAIT,
        Phase.REPLACING,
        reasons.REPLACING,
        f"Waiting for config {obs.config_name} to finish CREATING before replacing it",
    )


def replacement_refused(obs: Observation, ctx: Context) -> Verdict | None:
    """spec.oidc differs from our config and ``replacementPolicy: Never``: EKS cannot edit a
    config and the user will not have it replaced, so the change is refused (as ACK does)."""
    differences = obs.differences
    if obs.config is None or not differences:
        return None
    if obs.obj.spec.replacement_policy is not ReplacementPolicy.NEVER:
        return None
    message = (
        f"{', '.join(differences)} changed, and EKS cannot edit a config; spec.replacementPolicy "
        f"is Never, so config {obs.config_name} is kept as it is. Revert the change, or set "
        "spec.replacementPolicy to DeleteBeforeCreate"
    )
    return warned_stall(reasons.REPLACEMENT_REFUSED, message, hold=HoldOrder())


def oidc_changed(obs: Observation, ctx: Context) -> Verdict | None:
    """spec.oidc differs from our ACTIVE config (CREATING and DELETING were waited out above),
    and the new settings cannot go next to it (``replacementPolicy: DeleteBeforeCreate``, or
    EKS cannot hold both): disassociate it; the association follows once it is gone.

    Nobody can sign in through the provider from the disassociation until the new association
    is ACTIVE, so the outage is announced first, by a pass of its own (a Warning and the Ready
    condition, naming why); the pass after it starts the disassociation.
    """
    config, differences = obs.config, obs.differences
    if config is None or not differences:
        return None
    if not _outage_announced(obs):
        why = obs.delete_first or _why_delete_first(obs, config)
        return _outage_ahead(obs, obs.config_name, why)
    return _delete_first(obs, config)


def _delete_first(obs: Observation, config: ObservedConfig) -> Verdict:
    """Disassociate ``config`` to replace it (the association follows once it is gone)."""
    name = obs.config_name
    why = obs.delete_first or _why_delete_first(obs, config)
    token = disassociation_token(obs.obj, config, obs.update)
    call = Disassociate(obs.obj.spec.cluster_name, name, token)
    message = (
        f"{', '.join(obs.differences)} changed; EKS cannot edit a config, so {name} is "
        f"disassociated and associated again (no sign-in through it until then: {why})"
    )
    return Verdict(Kind.WAIT, Phase.REPLACING, reasons.REPLACING, message, calls=(call,))


def _outage_ahead(obs: Observation, name: str, why: str) -> Verdict:
    """The announcement of a replacement that deletes config ``name`` first, before it starts."""
    message = (
        f"Replacing config {name} by deleting it first: no sign-in through it until the new "
        "association is ACTIVE (two EKS updates, on real EKS 15-40 minutes each). Why: "
        f"{why}. Starting in a moment"
    )
    return Verdict(
        Kind.RETRY,
        Phase.REPLACING,
        reasons.REPLACEMENT_OUTAGE,
        message,
        events=(Event(EventType.WARNING, reasons.REPLACEMENT_OUTAGE, message),),
        retry=Backoff.QUEUE,
    )


def _outage_announced(obs: Observation) -> bool:
    """Whether an earlier pass announced this generation's delete-first replacement."""
    ready = conditions.find(obs.obj.status.conditions, constants.CONDITION_READY)
    return (
        ready is not None
        and ready.reason == reasons.REPLACEMENT_OUTAGE
        and ready.observed_generation == obs.obj.metadata.generation
    )


def _why_delete_first(obs: Observation, config: ObservedConfig) -> str:
    """Why this replacement cannot keep the old config serving until the new one is ACTIVE,
    when gathering did not say."""
    if obs.obj.spec.replacement_policy is ReplacementPolicy.DELETE_BEFORE_CREATE:
        return "spec.replacementPolicy is DeleteBeforeCreate"
    if normalised_issuer(obs.obj.spec.oidc.issuer_url) == normalised_issuer(config.issuer_url):
        return (
            "the issuer URL is unchanged, and EKS refuses a second config with the same issuer "
            "on one cluster"
        )
    name = successor_name(obs.obj.config_name, obs.obj.spec.oidc)
    return f"config {name}, the new settings' name, exists and is not this object's"


def noting_the_old_config(obs: Observation, found: Verdict) -> Verdict:
    """A stall of the new config of a make-before-break replacement says the old one serves."""
    if obs.previous is None or found.kind not in (Kind.STALL, Kind.RETRY):
        return found
    message = f"{found.message}; {keeps_serving(obs.previous.name)}"
    events = tuple(dataclasses.replace(e, message=message) for e in found.events)
    return dataclasses.replace(found, message=message, events=events)


def keeps_serving(name: str) -> str:
    return f"the old config {name} keeps serving sign-in until the new one is ACTIVE"


RULES = (
    previous_going,
    previous_settles,
    previous_retires,
    config_conflicts,
    replacement_refused,
    replacement_waits_for_creation,
    oidc_changed,
)
"""The replacement block of the apply chain, first match wins."""
