"""The Lease rules: who may take the lease and when a leader must stop, on local clocks only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eks_oidc_operator.election.lease import (
    LeaseRecord,
    LeaseTimings,
    lost,
    may_take,
    observe,
    released,
    taken,
)

T = LeaseTimings(lease_duration=15, renew_deadline=10, retry_period=2)
WALL = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _held(by: str | None, renewed: datetime = WALL, transitions: int = 0) -> LeaseRecord:
    return LeaseRecord(by, 15, WALL, renewed, transitions, "7")


def test_nobody_holding_it_or_no_lease_at_all_may_be_taken_at_once() -> None:
    assert may_take(None, "b", 0.0, T)
    assert may_take(observe(None, _held(None), 0.0), "b", 0.0, T)


def test_a_lease_held_by_another_may_be_taken_only_a_whole_duration_after_it_last_changed() -> None:
    seen = observe(None, _held("a"), now=100.0)
    assert not may_take(seen, "b", 114.9, T)
    seen = observe(seen, _held("a"), now=114.9)  # unchanged: the clock keeps running from 100
    assert may_take(seen, "b", 115.1, T)


def test_a_renewal_restarts_the_wait_whatever_time_the_holder_wrote() -> None:
    seen = observe(None, _held("a"), now=100.0)
    # The holder's clock may be hours off: only the change matters, seen at 110 here.
    renewed = observe(seen, _held("a", renewed=WALL - timedelta(hours=3)), now=110.0)
    assert not may_take(renewed, "b", 120.0, T)
    assert may_take(renewed, "b", 125.1, T)


def test_the_holder_may_always_renew_its_own_lease() -> None:
    assert may_take(observe(None, _held("a"), 0.0), "a", 0.0, T)


def test_a_leader_stops_before_a_standby_may_take_over() -> None:
    # Renewed at 100 (a standby saw that change no earlier): the leader stops by 110, a standby
    # may take the lease only after 115.
    assert not lost(100.0, 109.9, T)
    assert lost(100.0, 110.0, T)
    assert T.renew_deadline < T.lease_duration


def test_taking_counts_a_transition_and_renewing_keeps_the_acquire_time() -> None:
    other = taken(_held("a", transitions=4), "b", WALL + timedelta(seconds=20), T)
    assert (other.holder, other.transitions, other.acquire_time) == (
        "b",
        5,
        WALL + timedelta(seconds=20),
    )
    again = taken(other, "b", WALL + timedelta(seconds=22), T)
    assert (again.transitions, again.acquire_time, again.renew_time) == (
        5,
        WALL + timedelta(seconds=20),
        WALL + timedelta(seconds=22),
    )
    assert other.resource_version == "7"  # written with the version read: a race is a 409


def test_a_released_lease_is_free_for_the_next_candidate() -> None:
    free = released(_held("a"))
    assert free.holder is None
    assert may_take(observe(None, free, 0.0), "b", 0.0, T)


@pytest.mark.parametrize(("retry", "renew", "duration"), [(2, 15, 15), (10, 10, 15), (0, 1, 2)])
def test_timings_out_of_order_are_refused(retry: float, renew: float, duration: float) -> None:
    with pytest.raises(ValueError, match="retry period < renew deadline < lease duration"):
        LeaseTimings(lease_duration=duration, renew_deadline=renew, retry_period=retry)
