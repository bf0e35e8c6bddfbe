"""Pure schedules: how long to wait before the next poll of an EKS update, or the next retry.

Real associations take 15-40 minutes (docs/eks-behaviour.md §3.5), and the cluster is
UPDATING for all of it. The default poll schedule is a flat 30 seconds from the start (the
ACK controller's requeue): at most two DescribeUpdate calls a minute per update at any
length, and a lag between "EKS finished" and "Ready=True" spread evenly below 30 s. A faster
start (``poll_initial`` below ``poll_max``, growing by ``poll_factor``) would catch a request
EKS fails at once sooner, at the price of more calls on every update; the demo and the tests
use one, scaled down.
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


def poll_delay(polls_done: int, timings: Timings) -> float:
    """Delay before poll number ``polls_done + 1`` of one in-flight update (no jitter: one
    object, one schedule)."""
    delay: float = timings.poll_initial * (timings.poll_factor ** max(polls_done, 0))
    return min(timings.poll_max, delay)


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
