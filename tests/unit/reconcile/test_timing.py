"""Poll schedule and backoff: bounded, growing, jittered."""

from __future__ import annotations

import random

from eks_oidc_operator.reconcile.timing import Timings, backoff, poll_delay


def test_polls_start_fast_and_cap_at_poll_max() -> None:
    timings = Timings(poll_initial=5, poll_factor=2, poll_max=30)
    assert [poll_delay(n, timings) for n in range(6)] == [5, 10, 20, 30, 30, 30]


def test_backoff_grows_to_the_cap_within_the_jitter() -> None:
    rng = random.Random(1)
    delays = [backoff(n, 10, 300, 0.2, rng) for n in range(10)]
    for attempt, delay in enumerate(delays):
        nominal = min(300, 10 * 2**attempt)
        assert nominal * 0.8 <= delay <= nominal * 1.2
    assert max(delays) <= 360


def test_jitter_spreads_objects_that_failed_together() -> None:
    rng = random.Random(2)
    assert len({round(backoff(3, 10, 300, 0.2, rng), 3) for _ in range(20)}) > 10


def test_the_number_of_polls_for_a_40_minute_association_stays_small() -> None:
    timings = Timings()
    elapsed, polls = 0.0, 0
    while elapsed < 40 * 60:
        elapsed += poll_delay(polls, timings)
        polls += 1
    assert polls <= 90  # about duration / poll_max, plus the fast start
