"""Pure: the verdicts both chains share, and the words they are made of."""

from __future__ import annotations

from typing import Any

from eks_oidc_operator.models import EksUpdate, Phase
from eks_oidc_operator.reconcile import reasons
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.error_policy import ErrorPolicy, api_error_policy
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import Event, HoldOrder, Kind, Verdict
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.timing import Backoff


def eks_error(obs: Observation, ctx: Context) -> Verdict | None:
    """An EKS (or SDK) error ended gathering or a call: the error policy says what it means.

    What status recorded about EKS is kept, since this pass learned nothing reliable about it.
    An error that only a new spec can fix (the request itself is wrong) holds the object: the
    same request is never sent again until the spec changes or a retry is asked for.
    """
    error = obs.error
    if error is None:
        return None
    policy = api_error_policy(error.code, error.operation)
    # Named after the call that failed, unless the message already is ("AssumeRole of ...").
    message = (
        error.message
        if error.message.startswith(error.operation)
        else f"{error.operation}: {error.message}"
    )
    events = (Event(EventType.WARNING, policy.reason, message),)
    if policy.stalled:
        kind, phase = Kind.STALL, Phase.FAILED
    else:
        kind, phase = Kind.RETRY, obs.obj.status.phase or Phase.PENDING
    return Verdict(
        kind,
        phase,
        policy.reason,
        message,
        events=events,
        retry=policy.retry,
        keep_recorded=True,
        hold=HoldOrder() if policy.retry is None else None,
    )


def cluster_busy(obs: Observation) -> Verdict:
    """Another object of this operator is updating the cluster: wait for our turn, call nothing.

    EKS runs one update per cluster and answers a second with a 409; the gate saves those calls.
    The object joins the cluster's queue and is woken when its turn comes, so waiting costs no
    retries (and its status, written once, says nothing that changes while it waits). In
    deletion no timer runs to be woken: the delete handler looks again on the queue's schedule.
    """
    message = (
        f"waiting for its turn: another object of this operator is updating cluster "
        f"{obs.obj.spec.cluster_name}; this one starts when that update ends"
    )
    return Verdict(
        Kind.RETRY,
        obs.obj.status.phase or Phase.PENDING,
        reasons.CLUSTER_UPDATE_IN_PROGRESS,
        message,
        queued=True,
        retry=Backoff.QUEUE if obs.deleting else None,
        keep_recorded=True,
    )


def warned_stall(reason: str, message: str, **extra: Any) -> Verdict:
    """Stalled (phase Failed), announced by a Warning that says the same as the condition;
    ``extra`` are further :class:`Verdict` fields (a hold, a retry, ...)."""
    events = (Event(EventType.WARNING, reason, message),)
    return Verdict(Kind.STALL, Phase.FAILED, reason, message, events=events, **extra)


def stalled_on(update: EksUpdate, policy: ErrorPolicy) -> Verdict:
    """A failed update stalls the object with EKS's code and words, retried as its policy says."""
    return warned_stall(policy.reason, failure_message(update), retry=policy.retry)


def failure_message(update: EksUpdate) -> str:
    """EKS's code and messages of a failed update, each with the resources it names."""
    parts = []
    for error in update.errors:
        text = error.error_message or "no message"
        if error.error_code:
            text = f"errorCode {error.error_code}: {text}"
        if error.resource_ids:
            text += f" (resources: {', '.join(error.resource_ids)})"
        parts.append(text)
    ended = f"EKS update {update.id} ({update.type}) ended {update.status}"
    return f"{ended}: {'; '.join(parts)}" if parts else ended


def announced(kind: Kind, phase: Phase, reason: str, message: str) -> Verdict:
    """A verdict whose event says the same as its condition."""
    return Verdict(kind, phase, reason, message, events=(Event(EventType.NORMAL, reason, message),))


def outside_disassociation(obs: Observation) -> Event:
    """The warning for a disassociation that this operator did not start."""
    return Event(
        EventType.WARNING,
        reasons.DRIFT_DETECTED,
        f"Config {obs.config_name} is being disassociated from cluster "
        f"{obs.obj.spec.cluster_name} outside the operator; it will be associated again once "
        "EKS has removed it",
    )


def in_progress_message(update: EksUpdate) -> str:
    """How a wait for a running update reads."""
    return f"EKS update {update.id} ({update.type}) in progress"
