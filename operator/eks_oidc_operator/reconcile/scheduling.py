"""Pure: when an object's next pass is due.

- :func:`next_timer`: which timer an object needs (a poll, a drift check, none), from the facts
  of the status its last pass wrote and its latest body;
- :func:`asks_for_a_pass`: whether a watch event's annotations ask for a pass no pass has
  answered (a pause set or lifted, a new reconcile-now or retry value);
- :func:`request_wait`: how long a user's request waits for the request interval.

The scheduler that keeps the timers is :mod:`eks_oidc_operator.runtime.pacing.timers`; this
module decides, it only waits.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from eks_oidc_operator import constants
from eks_oidc_operator.models import (
    ConditionStatus,
    OidcIdentityProvider,
    OidcIdentityProviderStatus,
)
from eks_oidc_operator.models.resource import pause_of, request_mark
from eks_oidc_operator.reconcile import conditions
from eks_oidc_operator.reconcile.plan import waiting
from eks_oidc_operator.reconcile.timing import Timings, poll_delay


class Timer(StrEnum):
    """What an object's timer is for."""

    POLL = "poll"
    RESYNC = "resync"


@dataclass(frozen=True, slots=True)
class Due:
    """The next timer of an object: ``kind`` in ``delay`` seconds."""

    kind: Timer
    delay: float


def next_timer(  # noqa: PLR0913 - each input is one fact the choice rests on
    *,
    waiting: bool,
    queued: bool,
    paused: bool,
    deleting: bool,
    retries_owed: bool,
    poll_after: float | None,
    woken: bool,
    timings: Timings,
    rng: random.Random,
) -> Due | None:
    """The timer an object needs now, or ``None``. Pure (``rng`` aside).

    Parameters
    ----------
    waiting, queued
        From the status its last pass wrote: EKS works on it or it waits its turn; the latter.
    paused, deleting
        From the latest body: then nothing is polled (a pause costs nothing until lifted; the
        finalize handler owns a deletion).
    retries_owed
        A pass run by a timer or the controls handler asked for a retry with nothing in flight.
    poll_after
        The delay the last plan asked for, if any.
    woken
        The gate said it is this object's turn since its last pass.
    """
    if paused or deleting:
        return None
    if retries_owed or waiting:
        if woken:
            return Due(Timer.POLL, 0.0)
        if queued and not retries_owed:
            # The wake-up is all it needs; a pass of a still-queued object makes no call.
            return Due(Timer.POLL, timings.resync)
        return Due(Timer.POLL, poll_after if poll_after is not None else poll_delay(0, timings))
    return Due(Timer.RESYNC, rng.uniform(0.5, 1.5) * timings.resync)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the watch-event filters and the controls handler read of a remembered status."""

    waiting: bool
    """The poll timer follows the object (see
    :func:`~eks_oidc_operator.reconcile.plan.waiting`)."""
    queued: bool
    """It waits for its turn at the cluster gate."""
    paused_shown: bool
    """Its status shows the Paused condition."""
    reconcile_at: str | None
    """The reconcile-now request the pass answered."""
    retry: str | None
    """The retry request the pass answered."""

    @classmethod
    def of(cls, status: OidcIdentityProviderStatus) -> Facts:
        """The facts of ``status``."""
        return cls(
            waiting=waiting(status),
            queued=status.queued_since is not None,
            paused_shown=conditions.find(status.conditions, constants.CONDITION_PAUSED) is not None,
            reconcile_at=status.last_handled_reconcile_at,
            retry=status.retry_request,
        )


@dataclass(frozen=True, slots=True)
class TimerFacts:
    """What the scheduler needs of an object to choose its timer."""

    waiting: bool
    """EKS works on it, or it waits for its turn."""
    queued: bool
    """It waits for its turn at the cluster gate."""
    owed: bool
    """A timer owes a pass a retry."""
    poll_after: float | None
    """The delay the last plan asked for."""


def paused(annotations: Mapping[str, str]) -> bool:
    """Whether the annotations pause the object (then it has no timer)."""
    return pause_of(annotations) is not None


def request_wait(answered_at: float | None, now: float, interval: float) -> float:
    """Seconds before a user's request may be answered: none when the last one answered (at
    ``answered_at``, monotonic) is ``interval`` or more ago."""
    if answered_at is None:
        return 0.0
    return max(0.0, answered_at + interval - now)


def asks_for_a_pass(annotations: Mapping[str, str], facts: Facts) -> bool:
    """Whether ``annotations`` ask for something the pass whose status has ``facts`` did not
    see."""
    return (
        paused(annotations) != facts.paused_shown
        or request_mark(annotations.get(constants.RECONCILE_ANNOTATION)) != facts.reconcile_at
        or request_mark(annotations.get(constants.RETRY_ANNOTATION)) != facts.retry
    )


def waits_for_its_drift_check(obj: OidcIdentityProvider) -> bool:
    """Whether a resumed object (every object, when the operator starts) may skip its first
    pass and wait for its drift check: its status says it was Ready for this generation with
    nothing in flight, held, paused or asked for.

    A restart then describes nothing at once: each settled object is looked at when its resync
    timer comes, spread over the drift interval, as it would have been without the restart
    (a fleet of 10,000 described in one burst would meet EKS's throttling).
    """
    status, meta = obj.status, obj.metadata
    ready = conditions.find(status.conditions, constants.CONDITION_READY)
    return (
        ready is not None
        and ready.status == ConditionStatus.TRUE
        and status.observed_generation == meta.generation
        and not waiting(status)
        and status.hold is None
        and status.previous_config is None
        and meta.deletion_timestamp is None
        and not obj.asked_again
        and not paused(meta.annotations)
        and conditions.find(status.conditions, constants.CONDITION_PAUSED) is None
    )
