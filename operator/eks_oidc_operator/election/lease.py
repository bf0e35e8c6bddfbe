"""Pure: the rules of leader election on a ``coordination.k8s.io/v1`` Lease.

The rules are client-go's (the ecosystem's convention, what every controller-runtime
controller uses). A candidate may take the lease when nobody holds it, when it holds it
itself, or when the holder has not renewed it for ``leaseDurationSeconds`` *as measured on the
candidate's own clock*, from the moment the candidate last saw the record change. Never from
the ``renewTime`` the holder wrote: two machines' clocks need not agree.

The leader renews every ``retry_period``; if it cannot renew for ``renew_deadline`` (shorter
than the lease duration) it stops acting at once. So a leader that lost its lease has stopped
before any other candidate may take it: the others wait a whole lease duration after the last
change they saw, which came no earlier than the leader's last renewal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LeaseTimings:
    """The election's three durations, in seconds (client-go's defaults)."""

    lease_duration: float = 15.0
    """How long a lease not renewed stays its holder's, for the other candidates."""
    renew_deadline: float = 10.0
    """How long the leader keeps acting without a successful renewal (< lease_duration)."""
    retry_period: float = 2.0
    """How often candidates try to take the lease, and the leader renews it."""

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            msg = (
                "leader election needs 0 < retry period < renew deadline < lease duration, got "
                f"{self.retry_period} / {self.renew_deadline} / {self.lease_duration}"
            )
            raise ValueError(msg)


@dataclass(frozen=True)
class LeaseRecord:
    """The Lease's spec, as read from the API server."""

    holder: str | None
    duration_seconds: int | None
    acquire_time: datetime | None
    renew_time: datetime | None
    transitions: int
    resource_version: str | None


@dataclass(frozen=True)
class Seen:
    """A record, and when (on the local monotonic clock) this candidate first saw it as it is."""

    record: LeaseRecord
    at: float


def observe(previous: Seen | None, record: LeaseRecord, now: float) -> Seen:
    """What a candidate knows after reading ``record`` at ``now``: the record, and when it last
    changed as far as this candidate can tell (the holder or the renew time moved)."""
    if previous is not None and _same(previous.record, record):
        return Seen(record, previous.at)
    return Seen(record, now)


def _same(a: LeaseRecord, b: LeaseRecord) -> bool:
    return (a.holder, a.renew_time, a.transitions) == (b.holder, b.renew_time, b.transitions)


def may_take(seen: Seen | None, me: str, now: float, timings: LeaseTimings) -> bool:
    """Whether ``me`` may write itself into the lease now."""
    if seen is None:
        return True  # no Lease yet: create it
    record = seen.record
    if not record.holder or record.holder == me:
        return True
    duration = record.duration_seconds or timings.lease_duration
    return now - seen.at > duration


def taken(record: LeaseRecord | None, me: str, now: datetime, timings: LeaseTimings) -> LeaseRecord:
    """The record ``me`` writes to take (or renew) the lease at wall-clock ``now``."""
    renewing = record is not None and record.holder == me
    transitions = record.transitions if record is not None else 0
    return LeaseRecord(
        holder=me,
        # Whole seconds in the Lease; rounded up, so it never says less than the standbys wait.
        duration_seconds=math.ceil(timings.lease_duration),
        acquire_time=record.acquire_time if renewing and record is not None else now,
        renew_time=now,
        transitions=transitions if renewing else transitions + (1 if record else 0),
        resource_version=record.resource_version if record is not None else None,
    )


def released(record: LeaseRecord) -> LeaseRecord:
    """The record a leader that stops writes: nobody holds it, so a standby takes over at its
    next try instead of after a whole lease duration."""
    return LeaseRecord(
        holder=None,
        duration_seconds=1,
        acquire_time=record.acquire_time,
        renew_time=record.renew_time,
        transitions=record.transitions,
        resource_version=record.resource_version,
    )


def lost(last_renewal: float, now: float, timings: LeaseTimings) -> bool:
    """Whether a leader that last renewed at ``last_renewal`` must stop acting."""
    return now - last_renewal >= timings.renew_deadline
