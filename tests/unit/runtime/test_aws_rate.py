"""The operator's EKS call rate per account and region: a token bucket each, that calls wait on
(none is refused), with a pass's first token reserved before it starts."""

from __future__ import annotations

import asyncio
from typing import Any

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


def test_calls_beyond_the_burst_wait_their_turn_first_come_first_served() -> None:
    clock = Clock()
    pacer = CallPacer(burst=3, per_second=2, clock=clock, sleep=clock.sleep)
    key = ("1", "r")
    assert [pacer.reserve(key) for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert pacer.reserve(("2", "r")) == 0.0  # another account: its own bucket
    clock.now = 10.0  # debt paid, bucket full again, never beyond the burst
    assert [pacer.reserve(key) for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_a_pass_uses_its_reserved_token_first_and_its_later_calls_run_into_debt() -> None:
    clock = Clock()
    pacer = CallPacer(burst=2, per_second=4, clock=clock, sleep=clock.sleep)
    key = ("1", "r")
    ticket = asyncio.run(pacer.admit(key))  # one of the bucket's two tokens, reserved
    port = Port()
    paced = ticket.paced(port)  # type: ignore[arg-type]
    paced.describe_update("c", "u")  # the reserved token
    paced.describe_update("c", "u")  # the second token
    paced.describe_update("c", "u")  # debt: 1
    paced.describe_update("c", "u")  # debt: 2, a whole burst
    assert clock.slept == []  # no thread slept so far
    paced.describe_update("c", "u")  # overdrawn beyond a burst: waits for one token
    assert clock.slept == [0.25]
    assert port.calls == 5
    ticket.settle()  # nothing to give back: the reserved token was used
    # The next admission waits the debt out: 2 tokens owed, refilled in 0.5 s, then its own.
    assert pacer.reserve(key) == 0.75


def test_admission_waits_on_the_event_loop_and_an_unused_token_comes_back() -> None:
    clock = Clock()
    pacer = CallPacer(burst=1, per_second=100, clock=clock, sleep=clock.sleep)
    key = ("1", "r")

    async def two_passes() -> float:
        first = await pacer.admit(key)
        loop = asyncio.get_running_loop()
        started = loop.time()
        second = await pacer.admit(key)  # the bucket is empty: a real 10 ms sleep
        waited = loop.time() - started
        first.settle()  # the first pass made no EKS call
        second.settle()
        return waited

    assert asyncio.run(two_passes()) >= 0.009
    assert clock.slept == []  # no thread slept
    # Both tokens came back: the bucket is full again (one token, then a wait).
    assert [pacer.reserve(key) for _ in range(2)] == [0.0, 0.01]
