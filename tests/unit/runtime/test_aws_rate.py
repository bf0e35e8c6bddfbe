"""The operator's EKS call rate per account and region: a token bucket each, that calls wait on
(none is refused), with a pass's first token reserved before it starts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eks_oidc_operator.runtime.pacing.aws_rate import CallPacer, rate_key

ROLE = "arn:aws:iam::210987654321:role/fleet"


class Clock:
    """A clock that only sleeping moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Port:
    def __init__(self) -> None:
        self.calls = 0

    def describe_update(self, *_: Any) -> None:
        self.calls += 1


def test_the_bucket_is_the_roles_account_and_the_region() -> None:
    assert rate_key(ROLE, "eu-west-1") == ("210987654321", "eu-west-1")
    assert rate_key(None, "eu-west-1") == ("", "eu-west-1")


def _pacer(clock: Clock, burst: float, per_second: float) -> CallPacer:
    async def asleep(seconds: float) -> None:
        clock.now += seconds
        await asyncio.sleep(0)

    return CallPacer(
        burst=burst, per_second=per_second, clock=clock, sleep=clock.sleep, asleep=asleep
    )


def _admitted_at(pacer: CallPacer, clock: Clock, keys: list[tuple[str, str]]) -> list[float]:
    """When each of ``keys``'s passes, all arriving at once, was admitted (fake seconds)."""
    times: list[float] = []

    async def one(key: tuple[str, str]) -> None:
        await pacer.admit(key)
        times.append(clock.now)

    async def together() -> None:
        await asyncio.gather(*(one(k) for k in keys))

    asyncio.run(together())
    return times


def test_passes_beyond_the_burst_wait_their_turn_first_come_first_served() -> None:
    clock = Clock()
    pacer = _pacer(clock, burst=3, per_second=2)
    key = ("1", "r")
    assert _admitted_at(pacer, clock, [key] * 5) == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert _admitted_at(pacer, clock, [("2", "r")]) == [1.0]  # another account: its own bucket
    clock.now = 10.0  # bucket full again, never beyond the burst
    assert _admitted_at(pacer, clock, [key] * 4) == [10.0, 10.0, 10.0, 10.5]
    assert clock.slept == []  # no thread slept: the waits were on the event loop


def test_a_pass_uses_its_admission_token_first_and_its_later_calls_run_into_debt() -> None:
    clock = Clock()
    pacer = _pacer(clock, burst=2, per_second=4)
    key = ("1", "r")
    ticket = asyncio.run(pacer.admit(key))  # one of the bucket's two tokens
    port = Port()
    paced = ticket.paced(port)  # type: ignore[arg-type]
    paced.describe_update("c", "u")  # the admission's token
    paced.describe_update("c", "u")  # the second token
    paced.describe_update("c", "u")  # debt: 1
    paced.describe_update("c", "u")  # debt: 2, a whole burst
    assert clock.slept == []  # no thread slept so far
    paced.describe_update("c", "u")  # overdrawn beyond a burst: waits for one token
    assert clock.slept == [0.25]
    assert port.calls == 5
    ticket.settle()  # nothing to give back: the admission's token was used
    # The next admission waits the debt out (2 tokens owed, refilled in 0.5 s), then has one
    # whole token 0.25 s later.
    started = clock.now
    assert _admitted_at(pacer, clock, [key]) == [started + 0.75]


def test_a_crowd_admitted_together_leaves_no_thread_asleep() -> None:
    """1,000 passes at once, two calls each: each second call finds at most the debt of the
    passes admitted before it and not yet finished, never the crowd's whole queue."""
    clock = Clock()
    pacer = _pacer(clock, burst=50, per_second=10)
    key = ("1", "r")

    async def one_pass() -> None:
        ticket = await pacer.admit(key)
        paced = ticket.paced(Port())  # type: ignore[arg-type]
        paced.describe_update("c", "u")
        paced.describe_update("c", "u")
        ticket.settle()

    async def crowd() -> None:
        await asyncio.gather(*(one_pass() for _ in range(1000)))

    asyncio.run(crowd())
    assert clock.slept == []
    # 2,000 calls: a burst of 50, 50 more in debt, then 10 a second.
    assert 190 <= clock.now <= 200


def test_admission_waits_on_the_event_loop_and_an_unused_token_comes_back() -> None:
    clock = Clock()
    pacer = CallPacer(burst=1, per_second=100, clock=clock, sleep=clock.sleep)
    key = ("1", "r")

    async def two_passes() -> float:
        first = await pacer.admit(key)
        first.settle()  # the first pass made no EKS call: its token comes back
        loop = asyncio.get_running_loop()
        started = loop.time()
        second = await pacer.admit(key)  # the token given back: no wait
        waited = loop.time() - started
        second.settle()
        return waited

    assert asyncio.run(two_passes()) < 0.009
    assert clock.slept == []  # no thread slept


def test_a_crowd_is_given_places_at_the_rate_instead_of_a_long_wait_at_admission() -> None:
    clock = Clock()
    pacer = _pacer(clock, burst=2, per_second=10)
    key = ("1", "r")
    assert pacer.place(key) is None  # a token now: go
    for _ in range(2):
        asyncio.run(pacer.admit(key))  # the burst spent
    assert pacer.place(key) is None  # a token within 0.1 s: still a short wait
    pacer._waiting[key] = 30  # thirty passes in line: three seconds
    places = [pacer.place(key) for _ in range(3)]
    assert places == [pytest.approx(3.2), pytest.approx(3.3), pytest.approx(3.4)]
    pacer._waiting[key] = 0
    clock.now = 1.0  # the line is gone, but places given are still ahead: behind them
    assert pacer.place(key) == pytest.approx(2.5)
    clock.now = 10.0  # every place given has come
    assert pacer.place(key) is None


def test_places_are_spaced_by_the_calls_a_pass_has_made_lately() -> None:
    clock = Clock()
    pacer = _pacer(clock, burst=1, per_second=10)
    key = ("1", "r")
    for _ in range(40):  # passes of two calls each
        pacer.made(key, 2)
    pacer._waiting[key] = 100
    first, second = pacer.place(key), pacer.place(key)
    assert first is not None
    assert second is not None
    assert second - first == pytest.approx(0.2, abs=0.01)
