"""Pure: what a failed EKS update of this object leads to (association or disassociation).

Every failed update is reported at once, with EKS's code and words (a Warning event, and the
Ready condition's message), so the user learns of it. For codes that a new attempt may get past
(``Unknown``, unreachable cluster, ...) a bounded number of automatic retries follows, with
growing spacing, each announced by an event; meanwhile the object reports progress (Ready
False, Reconciling True), not Stalled: GitOps health tells one story until a human is needed.
Each retry is a real cluster update, which blocks the cluster's version upgrades while it
runs, so it must not repeat without end. After the last, or at once for codes that only a new
spec can fix, the object is Stalled and stays so, with no EKS call, until the spec changes or
the user asks for a retry with the ``eksoidc.io/reconcile-requested-at`` annotation (or the
older ``eksoidc.io/retry``).
"""

from __future__ import annotations

import dataclasses

from eks_oidc_operator import constants
from eks_oidc_operator.models import EksUpdate
from eks_oidc_operator.reconcile import reasons
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.error_policy import ErrorPolicy, update_error_policy
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import Event, HoldOrder, Kind, Verdict
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.rules.common import stalled_on
from eks_oidc_operator.reconcile.timing import Backoff, retry_delay

MAX_AUTOMATIC_RETRIES = 3
"""Automatic retries of a failed update per generation (and per retry request)."""

ASK_FOR_RETRY = (
    "change the spec, or ask for a retry: kubectl annotate --overwrite ... "
    f'{constants.RECONCILE_ANNOTATION}="$(date -Iseconds)"'
)
"""How a user moves an object whose automatic retries are over."""


def retry_asked(obs: Observation) -> bool:
    """The spec changed since the failed update was started (or, when that is not known, since
    the last pass), or the user asked for a retry."""
    obj = obs.obj
    status = obj.status
    started_for = status.update_generation
    if started_for is None:
        started_for = status.observed_generation
    return started_for != obj.metadata.generation or obj.asked_again


def retries_left(obs: Observation, policy: ErrorPolicy) -> bool:
    """Whether a failed update of this code may still be retried automatically (then the
    object reports progress; without, it is Stalled)."""
    return policy.retry is not None and (obs.obj.status.automatic_retries or 0) < (
        MAX_AUTOMATIC_RETRIES
    )


def after_failure(obs: Observation, ctx: Context, failed: EksUpdate, again: Verdict) -> Verdict:
    """The verdict for our ``failed`` update; ``again`` is the verdict that tries once more."""
    if retry_asked(obs):
        return again
    code = failed.errors[0].error_code if failed.errors else None
    policy = update_error_policy(code)
    spent = obs.obj.status.automatic_retries or 0
    retryable = retries_left(obs, policy)
    if obs.obj.status.hold is not None and retryable:
        # The hold of the last failure is up (the pre-EKS rules let the pass through): retry.
        attempt = f"automatic retry {spent + 1} of {MAX_AUTOMATIC_RETRIES}"
        notice = Event(
            EventType.NORMAL,
            reasons.RETRYING,
            f"Retrying the failed EKS update {failed.id} ({failed.type}): {attempt}",
        )
        return dataclasses.replace(again, notices=(*again.notices, notice), automatic_retry=True)
    stalled = stalled_on(failed, policy)
    if retryable:
        return _retry_later(stalled, again, spent, ctx)
    left = "no automatic retries left" if policy.retry is not None else "not retried"
    message = f"{stalled.message} ({left}: {ASK_FOR_RETRY})"
    event = Event(EventType.WARNING, stalled.reason, message)
    return dataclasses.replace(
        stalled, message=message, events=(event,), retry=None, hold=HoldOrder()
    )


def _retry_later(stalled: Verdict, again: Verdict, spent: int, ctx: Context) -> Verdict:
    """Automatic retries remain: the failure is reported, and the object waits (held, no EKS
    call) for the next retry.

    It reports progress with the failure in its message (Ready False, Reconciling True), not
    Stalled, so GitOps health does not flap between Failed and InProgress at each retry;
    Stalled comes once a human is needed."""
    delay = retry_delay(Backoff.SLOW, spent, ctx.timings, ctx.rng)
    message = (
        f"{stalled.message} (automatic retry {spent + 1} of {MAX_AUTOMATIC_RETRIES} "
        f"in about {round(delay)}s)"
    )
    event = Event(EventType.WARNING, stalled.reason, message)
    return Verdict(
        Kind.RETRY,
        again.phase,
        stalled.reason,
        message,
        events=(event,),
        hold=HoldOrder(after=delay),
    )
