"""Pure: the rules that decide a pass before any AWS call (no client, no STS, no EKS).

They read only the object, its status and the tenancy decision, so a pass they end costs
nothing: a paused object, an object the admin does not permit, one stalled on a refusal that
repeating cannot fix, and a deletion that keeps the config in EKS (``Retain``, or an object that
only observes).
"""

from __future__ import annotations

from eks_oidc_operator import constants
from eks_oidc_operator.models import (
    ConditionStatus,
    DeletionPolicy,
    OidcIdentityProviderStatus,
    Phase,
)
from eks_oidc_operator.reconcile import conditions, reasons
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.guards import issuer
from eks_oidc_operator.reconcile.guards.issuer import Severity
from eks_oidc_operator.reconcile.observation import CrdState, Observation, new_to_eks
from eks_oidc_operator.reconcile.plan import KEPT, Event, Kind, Verdict
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.rules.common import announced, cluster_busy, warned_stall
from eks_oidc_operator.reconcile.timing import Backoff, backoff


def paused(obs: Observation, ctx: Context) -> Verdict | None:
    """The pause annotation is set: no EKS call, and status keeps all it says but for a Paused
    condition (in flight or not: what EKS does meanwhile is read when the pause ends). First in
    every chain: a pause during an incident must win over everything, deletion included."""
    value = obs.obj.pause_value
    if value is None:
        return None
    annotation = constants.PAUSED_ANNOTATION
    read_as = (
        ""
        if value.strip().lower() == "true"
        else f' (its value "{value}" is read as "true": only "false" resumes)'
    )
    if obs.deleting:
        message = (
            f"Paused by the {annotation} annotation{read_as}: deletion waits, and nothing is "
            "disassociated, until the annotation is removed"
        )
    else:
        message = (
            f"Paused by the {annotation} annotation{read_as}: no EKS calls and no changes "
            "until it is removed"
        )
    return Verdict(
        Kind.RETRY,
        obs.obj.status.phase or Phase.PENDING,
        reasons.PAUSED,
        message,
        events=(Event(EventType.NORMAL, reasons.PAUSED, message),),
        keep_recorded=True,
        paused=True,
    )


def observed_only(obs: Observation, ctx: Context) -> Verdict | None:
    """Deletion of an object that only observes: the config was never its to remove, so the
    finalizer goes at once and EKS is not asked."""
    obj = obs.obj
    if not obs.deleting or not obj.observe_only:
        return None
    message = (
        f"spec.managementPolicy is Observe: config {obj.config_name} on cluster "
        f"{obj.spec.cluster_name} is left as it is"
    )
    return announced(Kind.RELEASE, Phase.DISASSOCIATING, reasons.OBSERVED, message)


def retained(obs: Observation, ctx: Context) -> Verdict | None:
    """Deletion with ``deletionPolicy: Retain``: leave the config in EKS, release at once."""
    obj = obs.obj
    if not obs.deleting or obj.spec.deletion_policy is not DeletionPolicy.RETAIN:
        return None
    message = (
        f"deletionPolicy is Retain: config {obj.config_name} stays associated with "
        f"{obj.spec.cluster_name}"
    )
    return announced(Kind.RELEASE, Phase.DISASSOCIATING, reasons.RETAINED, message)


def crd_deleted(obs: Observation, ctx: Context) -> Verdict | None:
    """Deletion while the CRD itself is being deleted: let go, as ``Retain`` does.

    Deleting the CRD deletes every object of every namespace at once: an uninstall that removes
    it (``kubectl delete -f`` of the CRD, a chart that owned it) must not cut sign-in on every
    cluster. Deleting the objects first is how configs are removed on purpose. A CRD that could
    not be read holds the deletion (retried), since releasing it might disassociate exactly
    what this rule exists to keep.
    """
    if not obs.deleting or obs.checks.crd is CrdState.SERVING:
        return None
    obj = obs.obj
    if obs.checks.crd is CrdState.UNREAD:
        message = (
            f"deletion waits: the operator could not read its CRD {constants.CRD_NAME} to "
            f"tell a deleted object from a deleted CRD ({obs.checks.crd_problem}); it needs "
            "get on that CustomResourceDefinition (the chart's ClusterRole grants it)"
        )
        return warned_stall(
            reasons.CRD_UNREAD, message, retry=Backoff.TRANSIENT, keep_recorded=True
        )
    message = (
        f"the CRD {constants.CRD_NAME} is being deleted, which deletes every object: config "
        f"{obj.config_name} stays associated with {obj.spec.cluster_name}, as with "
        "deletionPolicy Retain (delete the objects before the CRD to disassociate them)"
    )
    return Verdict(
        Kind.RELEASE,
        Phase.DISASSOCIATING,
        reasons.CRD_DELETED,
        message,
        events=(Event(EventType.WARNING, reasons.CRD_DELETED, message),),
    )


def not_permitted(obs: Observation, ctx: Context) -> Verdict | None:
    """The tenancy policy does not permit the object: stalled, and no AWS call is made.

    A deleted object that never reached EKS (nothing recorded) is released; one that did waits,
    since disassociating would take the very role it is not permitted.
    """
    denied = obs.denied
    if denied is None:
        return None
    status = obs.obj.status
    if obs.deleting and status.identity_provider_config_arn is None and status.update is None:
        message = f"{denied}; it never reached EKS, so there is nothing to disassociate"
        return announced(Kind.RELEASE, Phase.DISASSOCIATING, reasons.NOT_PERMITTED, message)
    message = denied
    if obs.deleting:
        message += (
            "; deletion waits: permit it again, or set spec.deletionPolicy to Retain to leave "
            "the config in EKS"
        )
    return warned_stall(reasons.NOT_PERMITTED, message, keep_recorded=True)


def issuer_refused(obs: Observation, ctx: Context) -> Verdict | None:
    """The issuer pre-flight found an issuer EKS cannot use (or the fence will not fetch), and
    ``Enforce`` counts that: stalled before any EKS call, since EKS would fail the association
    the same way, only 15-40 minutes later. Looked at again now and then (it may be fixed)."""
    check = obs.checks.issuer
    if check is None or issuer.severity(check, obs.checks.issuer_mode) is not Severity.FATAL:
        return None
    message = f"{check.message}; EKS would fail the association"
    reason = check.problem or issuer.ANSWERED_WRONGLY
    return warned_stall(reason, message, retry=Backoff.SLOW, keep_recorded=True)


def issuer_not_checked(obs: Observation, ctx: Context) -> Verdict | None:
    """The pre-flight did not get its turn (other checks took them all): no finding, so no
    association either. Checked again soon; never counted as a pass or a failure."""
    check = obs.checks.issuer
    if check is None or issuer.severity(check, obs.checks.issuer_mode) is not Severity.WAIT:
        return None
    return Verdict(
        Kind.RETRY,
        obs.obj.status.phase or Phase.PENDING,
        check.problem or issuer.NOT_CHECKED,
        check.message,
        # A turn frees within seconds: no growing backoff, but jittered, so a crowd turned
        # away together does not come back together and meet the same few turns again.
        after=backoff(
            0, ctx.timings.retry_base, ctx.timings.retry_max, ctx.timings.jitter, ctx.rng
        ),
        keep_recorded=True,
    )


def claimed_by_older(obs: Observation, ctx: Context) -> Verdict | None:
    """An older object names the same config and this one never reached EKS: it goes first.

    Once either has associated, the config's owner tag decides instead, so an object that
    already has a config or an update of its own is never held back here.
    """
    rival, status = obs.rival, obs.obj.status
    if rival is None or status.identity_provider_config_arn or status.update is not None:
        return None
    obj = obs.obj
    message = (
        f"Config {obj.config_name} on cluster {obj.spec.cluster_name} is claimed by {rival}, an "
        "older object naming the same config; the older one goes first and this object makes "
        "no AWS call. Use another spec.oidc.identityProviderConfigName, or delete the other"
    )
    # The other may be deleted: look again now and then (no AWS call).
    return warned_stall(
        reasons.CONFIG_OWNED_BY_ANOTHER, message, retry=Backoff.SLOW, keep_recorded=True
    )


def held(obs: Observation, ctx: Context) -> Verdict | None:
    """Held after a refusal: no EKS call until the spec changes, the user asks for a retry, or
    the hold's own time is up (an automatic retry's). The conditions stay as the pass that
    began the hold wrote them: Stalled when a human is needed, else progress."""
    obj = obs.obj
    hold = obj.status.hold
    if hold is None or hold.deleting != obs.deleting:
        return None
    if hold.generation != obj.metadata.generation or obj.asked_again:
        return None
    if hold.until is not None and ctx.now >= hold.until:
        return None
    return _still_held(obj.status, hold.reason)


def _still_held(status: OidcIdentityProviderStatus, reason: str) -> Verdict:
    """The verdict of a pass that finds the object held: the conditions as the pass that began
    the hold wrote them (the wait before an automatic retry is still progress)."""
    stalled = conditions.find(status.conditions, constants.CONDITION_STALLED)
    if stalled is not None and stalled.status == ConditionStatus.TRUE:
        kind, phase, message = Kind.STALL, Phase.FAILED, stalled.message
    else:
        ready = conditions.find(status.conditions, constants.CONDITION_READY)
        message = ready.message if ready is not None else reason
        kind, phase = Kind.RETRY, status.phase or Phase.PENDING
    return Verdict(kind, phase, reason, message, keep_recorded=True, hold=KEPT)


def waits_turn(obs: Observation, ctx: Context) -> Verdict | None:
    """Another object of this operator is updating the cluster, and this one has nothing in EKS
    yet (no config, no update): all it could do is associate, which must wait anyway. It joins
    the cluster's queue without a single read: waiting costs EKS nothing.

    An object with something in EKS is read first (it may be Ready, or have drifted): only a
    verdict that would start an update queues it (:func:`~.common.cluster_busy` after the
    chain).
    """
    if obs.gate_holder is None or obs.deleting or not new_to_eks(obs.obj):
        return None
    return cluster_busy(obs)


APPLY = (
    paused,
    not_permitted,
    issuer_refused,
    issuer_not_checked,
    claimed_by_older,
    held,
    waits_turn,
)
"""Before the apply chain."""

OBSERVE = (paused, not_permitted)
"""Before the observe chain: an object that only reads is never held, queued or pre-flighted
(it associates nothing), but a tenancy refusal still keeps it from using the role."""

DELETE = (paused, observed_only, retained, crd_deleted, not_permitted, held)
"""Before the deletion chain. ``observed_only`` and ``retained`` early: keeping the config needs
no AWS at all."""
