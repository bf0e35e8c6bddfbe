"""Poll schedule and backoff: bounded, growing, jittered."""

from __future__ import annotations

import random

from eks_oidc_operator.reconcile.timing import Timings, Window, backoff, poll_delay


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


LEARNED = Timings(poll_initial=30, poll_max=30, poll_near=20, poll_window_samples=3)
WINDOW = Window(opens=900, closes=2400, samples=3)


def test_until_a_window_is_learned_polls_follow_the_first_schedule() -> None:
    few = Window(opens=900, closes=2400, samples=2)
    assert poll_delay(0, LEARNED, 10.0, few) == 30  # two samples: not learned yet
    never = Timings(poll_window_samples=0)
    assert poll_delay(0, never, 10.0, WINDOW) == 30  # 0: the window is never used
    assert poll_delay(0, LEARNED, None, WINDOW) == 30  # the update's age unknown


def test_before_the_window_looks_are_sparse_and_land_on_its_opening() -> None:
    assert poll_delay(0, LEARNED, 0.0, WINDOW) == 30  # at least the cap
    assert poll_delay(5, LEARNED, 300.0, WINDOW) == 150  # half the update's age
    assert poll_delay(6, LEARNED, 800.0, WINDOW) == 100  # not past the opening


def test_inside_the_window_polls_every_near_interval_and_past_it_the_cap() -> None:
    assert poll_delay(9, LEARNED, 900.0, WINDOW) == 20
    assert poll_delay(50, LEARNED, 2400.0, WINDOW) == 20
    assert poll_delay(51, LEARNED, 2401.0, WINDOW) == 30
    scaled = Timings(poll_max=1, poll_near=20, poll_window_samples=3)
    assert poll_delay(9, scaled, 900.0, WINDOW) == 1  # never above the cap


def _walk(timings: Timings, window: Window | None, ends_at: float) -> tuple[int, float]:
    """Polls of one update that ends at ``ends_at`` s, and the lag until a poll sees it."""
    elapsed, polls = 0.0, 0
    while elapsed < ends_at:
        elapsed += poll_delay(polls, timings, elapsed, window)
        polls += 1
    return polls, elapsed - ends_at


def test_the_learned_window_beats_a_flat_30_s_requeue_on_calls_and_lag() -> None:
    rng = random.Random(3)
    ends = [rng.uniform(900, 2400) for _ in range(500)]
    flat = [_walk(Timings(), None, end) for end in ends]
    learned = [_walk(LEARNED, WINDOW, end) for end in ends]

    def p95(values: list[float]) -> float:
        return sorted(values)[int(0.95 * len(values)) - 1]

    assert sum(p for p, _ in learned) < 0.85 * sum(p for p, _ in flat)
    assert p95([lag for _, lag in learned]) < 0.75 * p95([lag for _, lag in flat])
