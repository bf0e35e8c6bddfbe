"""Pure schedules: how long to wait before the next poll of an EKS update, or the next retry.

Real associations take 15-40 minutes (docs/eks-behaviour.md §3.5), and EKS says nothing when
one ends: only a poll finds out, so every poll schedule trades calls for lag. A flat 30 s
requeue (the ACK controller's) costs two DescribeUpdate calls a minute for the whole update and
leaves a lag spread evenly below 30 s, wherever the update ends.

This schedule learns instead. The updates of one kind in one account and region take about as
long as each other, so once a few have ended (``poll_window_samples``), the span they ended in
is the :class:`Window` the next one most likely ends in:

- before the window opens, a look now and then, each after half as long again as the update
  has run (at least ``poll_max``): an update EKS fails early is still seen within half its age;
- inside the window, a poll every ``poll_near`` (at most ``poll_max``): the lag bound;
- past the window (an update slower than any seen), back to ``poll_max``.

Until a window is known (a new account, a new process), the first schedule: ``poll_initial``,
growing by ``poll_factor`` up to ``poll_max`` (by default a flat 30 s). docs/performance.md
has what each costs, measured with durations drawn from a range.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Timings:
    """Every delay the decision code uses, in seconds. Built from settings at start-up."""

    poll_initial: float = 30.0
    """First poll after an update starts (by default the flat interval: see the module)."""
    poll_factor: float = 2.0
    """Growth of the poll interval between polls."""
    poll_max: float = 30.0
    """Upper bound of the poll interval, and so of the completion lag."""
    poll_near: float = 20.0
    """The poll interval inside a learned window (capped at ``poll_max``)."""
    poll_window_samples: int = 3
    """Updates that must have ended in an account and region before their window is used
    (0: never; the first schedule always)."""
    retry_base: float = 10.0
    """First retry after a transient error (throttling, 5xx, cluster busy)."""
    retry_max: float = 300.0
    """Cap of the transient retry backoff."""
    slow_retry_base: float = 60.0
    """First retry after an error a human usually fixes (IAM, quotas): rare, but not never."""
    slow_retry_max: float = 1800.0
    """Cap of the slow retry backoff."""
    jitter: float = 0.2
    """+/- fraction of random spread, so N objects that failed together do not retry together."""
    resync: float = 600.0
    """Interval of the drift check on Ready objects."""
    claim_settle: float = 1.0
    """How long after the end of its creation's second (timestamps have whole seconds) a new
    object waits before its first Associate, for the watch to bring every object created in
    that second: the older of two naming one config then goes first, as the docs promise."""


def backoff(attempt: int, base: float, cap: float, jitter: float, rng: random.Random) -> float:
    """Exponential backoff ``base * 2**attempt`` capped at ``cap``, with +/- ``jitter`` spread."""
    delay: float = min(cap, base * (2.0 ** max(attempt, 0)))
    spread = delay * jitter
    return max(0.0, delay + rng.uniform(-spread, spread))


@dataclass(frozen=True)
class Window:
    """When recent updates of one kind in one account and region ended, in seconds after EKS
    created them: from the earliest a poll could have seen one end to the latest."""

    opens: float
    closes: float
    samples: int
    """How many ended updates it was learned from."""


def poll_delay(
    polls_done: int, timings: Timings, elapsed: float | None = None, window: Window | None = None
) -> float:
    """Delay before poll number ``polls_done + 1`` of one in-flight update that EKS created
    ``elapsed`` seconds ago (no jitter: one object, one schedule). With a learned ``window``,
    the learned schedule (see the module); else the first one."""
    learned = window is not None and 0 < timings.poll_window_samples <= window.samples
    if not learned or elapsed is None:
        delay: float = timings.poll_initial * (timings.poll_factor ** max(polls_done, 0))
        return min(timings.poll_max, delay)
    assert window is not None
    if elapsed < window.opens:
        return min(max(timings.poll_max, elapsed / 2), window.opens - elapsed)
    if elapsed <= window.closes:
        return min(timings.poll_near, timings.poll_max)
    return timings.poll_max


class Backoff(StrEnum):
    """The retry schedules: which base and cap of :class:`Timings` a retry follows."""

    QUEUE = "Queue"
    """Waiting for our turn on a busy cluster: paced like polls (the ``poll_*`` pair)."""
    TRANSIENT = "Transient"
    """Transient trouble (throttling, 5xx, a 409, a missing cluster): the ``retry_*`` pair."""
    SLOW = "Slow"
    """Trouble a human usually fixes outside the spec (IAM, quotas): the slow pair."""


def retry_delay(schedule: Backoff, retries: int, timings: Timings, rng: random.Random) -> float:
    """The jittered backoff of retry number ``retries + 1`` on ``schedule``."""
    base, cap = {
        Backoff.QUEUE: (timings.poll_initial, timings.poll_max),
        Backoff.TRANSIENT: (timings.retry_base, timings.retry_max),
        Backoff.SLOW: (timings.slow_retry_base, timings.slow_retry_max),
    }[schedule]
    return backoff(retries, base, cap, timings.jitter, rng)
