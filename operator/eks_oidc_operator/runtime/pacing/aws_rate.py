"""The operator's AWS call rate per account and region: a token bucket each, that calls wait on.

EKS throttles each account and region (its numbers are unpublished); a burst of ours beyond
them comes back as 429s, which botocore retries blindly and which then spill into every other
caller of that account, people included. So the operator paces itself, below EKS's limit: each
(account, region) has a bucket of ``burst`` tokens refilled at ``per_second``, and every EKS
call takes one, waiting its turn when none is left. Nothing is refused: an apply of thousands,
a restart, a drift-check wave or a flood of reconcile-now requests is spread out in time.

Where a pass waits: before it starts, on the event loop (:meth:`CallPacer.admit`: a sleep, not
a worker thread held), one at a time and first come, first served, until the bucket holds a
token; it takes the token its first call will use. Its later calls take theirs in the worker
thread without waiting, running the bucket into debt, which the next admissions wait out: so
the rate holds over time, and no worker thread sleeps (with every thread asleep on one
account's debt, no other account's pass could run: measured, a fleet over ten regions then
made 10 calls a second in all). Only a bucket overdrawn by a whole burst makes a call wait in
its thread, so the calls made in any span stay within two bursts of the rate. A pass that made
no call gives its token back.

Admission takes a token only when there is one. An earlier version let every admission borrow
at once and sleep until its own place: with 1,000 passes admitted together the bucket was
1,000 tokens in debt, so each pass's second call found it overdrawn far beyond a burst and
slept in its thread, every thread soon did, and the passes whose place had come meanwhile ran
together once threads were free: EKS throttled 983 calls in a burst of 10,000 objects.

A crowd waits without its bodies (:meth:`CallPacer.place`): a pass that would wait at
admission longer than :data:`WAIT_IN_LINE` seconds is not started; the caller hands it to the
object's poll timer for the place the pacer gives it, spaced at the bucket's rate by the calls
a pass has made lately. A timer costs its object a few hundred bytes; a pass waiting at
admission held its kopf worker, its body and its inputs: in a burst of 10,000 objects on
10,000 clusters, thousands of them at once, the larger part of the operator's peak memory.

The account of a call is the one in the object's ``spec.roleArn``; objects without one share
the operator's own identity's bucket (its account is not known without asking STS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from eks_oidc_operator.models.spec import role_account
from eks_oidc_operator.runtime.pacing.buckets import TokenBuckets
from eks_oidc_operator.runtime.port import EksPort, before_each_call

RateKey = tuple[str, str]
"""(account, region); the account is empty for the operator's own identity."""

WAIT_IN_LINE = 2.0
"""Seconds a pass may expect to wait at admission before it is given a later place instead."""


def rate_key(role_arn: str | None, region: str) -> RateKey:
    """The bucket a call of an object with ``role_arn`` (if any) in ``region`` is charged to."""
    return (role_account(role_arn), region)


class CallPacer:
    """The buckets. Thread-safe: admissions come from the event loop, calls from threads."""

    def __init__(
        self,
        *,
        burst: float,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._buckets: TokenBuckets[RateKey] = TokenBuckets(
            burst=burst, per_second=per_second, clock=clock
        )
        self._sleep, self._asleep = sleep, asleep
        self._clock = clock
        self._turns: dict[RateKey, asyncio.Lock] = {}
        self._waiting: dict[RateKey, int] = {}  # passes waiting at admission
        self._places: dict[RateKey, float] = {}  # the last place given, clock time
        self._calls: dict[RateKey, float] = {}  # calls per pass lately (moving average)

    def place(self, key: RateKey) -> float | None:
        """``None``: a pass of ``key`` may start now (its wait at admission is short). Else the
        seconds until its place: after every place given so far, one pass's calls apart."""
        now = self._clock()
        per_pass = self._calls.get(key, 1.0) / self._buckets.per_second
        line = self._waiting.get(key, 0) * per_pass + self._buckets.until_one(key)
        given = self._places.get(key, 0.0)
        if line <= WAIT_IN_LINE and given <= now:
            return None
        place = max(now + line, given) + per_pass
        self._places[key] = place
        return place - now

    def give_back(self, key: RateKey) -> None:
        """Return a token taken and not used."""
        self._buckets.give_back(key)

    async def admit(self, key: RateKey) -> Ticket:
        """Wait, on the event loop and in turn (an asyncio lock is first come, first served),
        until ``key``'s bucket holds a token, and take it for the pass's first call; the pass's
        ticket, which paces the rest."""
        turn = self._turns.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with turn:
                while not self._buckets.take(key):
                    await self._asleep(self._buckets.until_one(key))
        finally:
            self._waiting[key] -= 1
        return Ticket(self, key)

    def made(self, key: RateKey, calls: int) -> None:
        """A pass of ``key`` is over, having made ``calls`` EKS calls (for :meth:`place`)."""
        self._calls[key] = 0.9 * self._calls.get(key, 1.0) + 0.1 * max(calls, 1)

    def take(self, key: RateKey) -> None:
        """One token for a later call of a pass, now: in debt if need be; sleeping (in the
        calling thread) only for what the bucket is overdrawn beyond a whole burst."""
        owed = -self._buckets.borrow(key)
        wait = (owed - self._buckets.burst) / self._buckets.per_second
        if wait > 0:
            self._sleep(wait)


class Ticket:
    """One pass's place in its bucket: the token :meth:`CallPacer.admit` reserved for its
    first call, and the pacing of the rest. Used from the pass's worker thread only."""

    def __init__(self, pacer: CallPacer, key: RateKey) -> None:
        self._pacer = pacer
        self.key = key
        self._prepaid = True
        self._calls = 0

    def take(self, _call: str = "") -> None:
        """A token for the next call (the reserved one first)."""
        self._calls += 1
        if self._prepaid:
            self._prepaid = False
        else:
            self._pacer.take(self.key)

    def paced(self, port: EksPort) -> EksPort:
        """``port`` whose calls each take a token first."""
        return before_each_call(port, self.take)

    def settle(self) -> None:
        """The pass is over: give the reserved token back if no call used it."""
        self._pacer.made(self.key, self._calls)
        if self._prepaid:
            self._prepaid = False
            self._pacer.give_back(self.key)
