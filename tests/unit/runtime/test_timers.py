"""The scheduler of polls and drift checks: which timer an object gets, and when its pass runs.

``next_timer`` is a table; ``Timers`` runs on a real event loop with timings of milliseconds
and a fake pass that records what it was asked to run.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from eks_oidc_operator.kopf_private import links as kopf_links
from eks_oidc_operator.reconcile.scheduling import Due, Timer, TimerFacts, next_timer
from eks_oidc_operator.reconcile.timing import Timings
from eks_oidc_operator.runtime.pacing.timers import Timers

TIMINGS = Timings(poll_initial=30.0, poll_max=30.0, resync=600.0)


def _next(seed: int = 1, **facts: Any) -> Due | None:
    given: dict[str, Any] = {
        "waiting": False,
        "queued": False,
        "paused": False,
        "deleting": False,
        "retries_owed": False,
        "poll_after": None,
        "woken": False,
    } | facts
    return next_timer(**given, timings=TIMINGS, rng=random.Random(seed))


def test_a_settled_object_gets_a_spread_drift_check() -> None:
    due = _next()
    assert due is not None
    assert due.kind is Timer.RESYNC
    assert 300.0 <= due.delay <= 900.0
    delays = {_next(seed) for seed in range(5)}
    assert len(delays) == 5, "objects settled together do not check together"


def test_work_in_flight_is_polled_as_the_last_plan_said_or_at_the_first_step() -> None:
    assert _next(waiting=True, poll_after=12.0) == Due(Timer.POLL, 12.0)
    assert _next(waiting=True) == Due(Timer.POLL, TIMINGS.poll_initial)


def test_a_queued_object_waits_for_its_wake_up_with_the_drift_interval_as_a_net() -> None:
    assert _next(waiting=True, queued=True, poll_after=5.0) == Due(Timer.POLL, TIMINGS.resync)
    assert _next(waiting=True, queued=True, woken=True) == Due(Timer.POLL, 0.0)


def test_a_retry_owed_is_polled_on_its_backoff_even_while_queued() -> None:
    assert _next(retries_owed=True, poll_after=9.0) == Due(Timer.POLL, 9.0)
    assert _next(retries_owed=True, queued=True, poll_after=9.0) == Due(Timer.POLL, 9.0)


@pytest.mark.parametrize("stopper", ["paused", "deleting"])
def test_paused_or_deleting_objects_get_no_timer(stopper: str) -> None:
    assert _next(**{stopper: True}, waiting=True) is None
    assert _next(**{stopper: True}) is None


@dataclass
class World:
    """Facts of each object by uid, as the handlers would read them, and the passes run."""

    facts: dict[str, tuple[bool, bool, bool, float | None]] = field(default_factory=dict)
    runs: list[tuple[str, Timer]] = field(default_factory=list)
    fail: bool = False
    hold: asyncio.Event | None = None

    async def run(self, kind: Timer, body: Mapping[str, Any], memo: Any) -> None:
        uid = body["metadata"]["uid"]
        self.runs.append((uid, kind))
        if self.hold is not None:
            await self.hold.wait()
        if self.fail:
            raise RuntimeError("boom")
        waiting, queued, owed, _ = self.facts[uid]
        self.facts[uid] = (waiting, queued, owed, 0.02)

    def read(self, body: Mapping[str, Any], memo: Any) -> TimerFacts:
        waiting, queued, owed, poll_after = self.facts[body["metadata"]["uid"]]
        return TimerFacts(waiting=waiting, queued=queued, owed=owed, poll_after=poll_after)


def _body(uid: str, **metadata: Any) -> dict[str, Any]:
    return {"metadata": {"uid": uid, **metadata}}


FAST = Timings(poll_initial=0.02, poll_max=0.02, resync=0.2)


async def _timers(world: World) -> Timers:
    timers = Timers()
    timers.start(
        run=world.run,
        facts=world.read,
        paused=lambda annotations: "paused" in annotations,
        timings=FAST,
        rng=random.Random(0),
    )
    return timers


async def test_an_object_in_flight_is_polled_again_and_again() -> None:
    world = World({"a": (True, False, False, None)})
    timers = await _timers(world)
    timers.seen(_body("a"), {})
    await asyncio.sleep(0.1)
    await timers.stop()
    assert len(world.runs) >= 3
    assert set(world.runs) == {("a", Timer.POLL)}


async def test_a_settled_object_is_checked_once_per_interval_not_at_every_event() -> None:
    world = World({"a": (False, False, False, None)})
    timers = await _timers(world)
    for _ in range(20):  # unrelated watch events do not put the check off
        timers.seen(_body("a"), {})
        await asyncio.sleep(0.01)
    assert timers.scheduled() == {"a": Timer.RESYNC}
    await asyncio.sleep(0.2)
    await timers.stop()
    assert world.runs[:1] == [("a", Timer.RESYNC)]


async def test_the_gate_wake_up_runs_a_queued_object_at_once() -> None:
    world = World({"q": (True, True, False, None)})
    timers = await _timers(world)
    timers.seen(_body("q"), {})
    await asyncio.sleep(0.05)
    assert world.runs == []  # waits for its turn (the net is the drift interval, 0.2 s)
    timers.wake("q")  # from the gate, in a worker thread in real life
    await asyncio.sleep(0.01)
    await timers.stop()
    assert world.runs == [("q", Timer.POLL)]


async def test_a_wake_up_during_its_pass_is_kept_for_right_after() -> None:
    hold = asyncio.Event()
    world = World({"q": (True, True, False, None)}, hold=hold)
    timers = await _timers(world)
    timers.seen(_body("q"), {})
    timers.wake("q")
    await asyncio.sleep(0.01)
    assert world.runs == [("q", Timer.POLL)]  # running, held
    timers.wake("q")
    await asyncio.sleep(0.01)
    hold.set()
    await asyncio.sleep(0.01)
    await timers.stop()
    assert world.runs == [("q", Timer.POLL)] * 2


async def test_stopping_cancels_timers_and_the_passes_running() -> None:
    world = World({"a": (True, False, False, 0.0), "b": (True, False, False, 0.05)})
    world.hold = asyncio.Event()  # a's pass never ends by itself
    timers = await _timers(world)
    timers.seen(_body("a"), {})
    await asyncio.sleep(0.01)
    timers.seen(_body("b"), {})
    await asyncio.wait_for(timers.stop(), timeout=1.0)
    await asyncio.sleep(0.08)
    assert world.runs == [("a", Timer.POLL)]  # b's timer never fired


async def test_pausing_deleting_or_deleted_objects_lose_their_timer() -> None:
    world = World(dict.fromkeys("abc", (True, False, False, 0.05)))
    timers = await _timers(world)
    for uid in "abc":
        timers.seen(_body(uid), {})
    assert timers.scheduled() == dict.fromkeys("abc", Timer.POLL)
    timers.seen(_body("a", annotations={"paused": "true"}), {})
    timers.seen(_body("b", deletionTimestamp="2026-12-03T10:00:00Z"), {})
    timers.gone("c")
    assert timers.scheduled() == {}
    await asyncio.sleep(0.1)
    await timers.stop()
    assert world.runs == []


async def test_a_poll_moves_earlier_when_another_pass_starts_an_association() -> None:
    world = World({"q": (True, True, False, None)})
    timers = await _timers(world)
    timers.seen(_body("q"), {})  # queued: the net, 0.2 s away
    world.facts["q"] = (True, False, False, 0.01)  # a kopf handler's pass associated
    timers.passed("q")
    await asyncio.sleep(0.05)
    await timers.stop()
    assert world.runs[:1] == [("q", Timer.POLL)]


async def test_a_failed_pass_is_tried_again_later_not_in_a_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eks_oidc_operator.runtime.pacing import timers as module

    monkeypatch.setattr(module, "FAILED_PASS_DELAY", 0.05)
    world = World({"a": (True, False, False, 0.001)}, fail=True)
    timers = await _timers(world)
    timers.seen(_body("a"), {})
    await asyncio.sleep(0.08)
    await timers.stop()
    assert len(world.runs) == 2, world.runs


async def test_a_failed_pass_of_an_object_paused_meanwhile_is_not_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eks_oidc_operator.runtime.pacing import timers as module

    monkeypatch.setattr(module, "FAILED_PASS_DELAY", 0.02)
    hold = asyncio.Event()
    world = World({"a": (True, False, False, 0.0)}, fail=True, hold=hold)
    timers = await _timers(world)
    timers.seen(_body("a"), {})
    await asyncio.sleep(0.01)  # its pass runs, held
    timers.seen(_body("a", annotations={"paused": "true"}), {})
    hold.set()
    await asyncio.sleep(0.06)
    assert timers.scheduled() == {}
    await timers.stop()
    assert world.runs == [("a", Timer.POLL)]


async def test_a_wake_up_does_not_outlive_a_settled_status() -> None:
    world = World({"q": (True, True, False, None)}, hold=asyncio.Event())
    timers = await _timers(world)
    timers.seen(_body("q"), {})
    timers.wake("q")
    await asyncio.sleep(0.01)  # running, held; woken again during it
    timers.wake("q")
    await asyncio.sleep(0.01)
    world.facts["q"] = (False, False, False, None)  # the pass settled it
    assert world.hold is not None
    world.hold.set()
    await asyncio.sleep(0.01)
    assert timers.scheduled() == {"q": Timer.RESYNC}
    world.facts["q"] = (True, False, False, 0.5)  # a later association: its own schedule
    timers.passed("q")
    await asyncio.sleep(0.05)
    await timers.stop()
    assert world.runs == [("q", Timer.POLL)], "no early poll from the old wake-up"


async def test_passes_run_in_the_context_given_at_start() -> None:
    import contextvars

    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")
    seen: list[str] = []

    async def run(kind: Timer, body: Mapping[str, Any], memo: Any) -> None:
        seen.append(marker.get("none"))

    context = contextvars.copy_context()
    context.run(marker.set, "kopf's")
    timers = Timers()
    timers.start(
        run=run,
        facts=lambda b, m: TimerFacts(waiting=True, queued=False, owed=False, poll_after=0.0),
        paused=lambda a: False,
        timings=FAST,
        rng=random.Random(0),
        context=context,
    )
    timers.seen(_body("a"), {})
    await asyncio.sleep(0.01)
    await timers.stop()
    assert seen[:1] == ["kopf's"]


def test_the_kopf_internals_the_timer_passes_use_exist() -> None:
    # An upgrade of kopf that moves them must fail here, not in the operator.
    from kopf._core.actions import application
    from kopf._core.engines import posting

    assert callable(application.patch_and_check)
    for name in kopf_links.POSTER_VARIABLES:
        assert hasattr(posting, name)


async def test_the_pass_gets_the_latest_body_and_not_the_dict_the_watch_delivered() -> None:
    seen: list[Mapping[str, Any]] = []
    world = World({"a": (True, False, False, None)})

    async def run(kind: Timer, body: Mapping[str, Any], memo: Any) -> None:
        seen.append(body)
        await world.run(kind, body, memo)

    timers = Timers()
    timers.start(
        run=run, facts=world.read, paused=lambda _: False, timings=FAST, rng=random.Random(0)
    )
    first = _body("a", labels={"v": "1"})
    timers.seen(first, {})
    latest = _body("a", labels={"v": "2"})
    timers.seen(latest, {})
    first["metadata"]["labels"]["v"] = "changed after"  # kopf's dict is not what is kept
    latest["metadata"]["labels"]["v"] = "changed after"
    await asyncio.sleep(0.05)
    await timers.stop()
    assert seen
    assert seen[0] == _body("a", labels={"v": "2"})
    assert seen[0] is not latest


async def test_passes_beyond_the_slots_wait_and_then_get_the_latest_body() -> None:
    world = World(dict.fromkeys("abcde", (True, False, False, None)))
    world.hold = asyncio.Event()
    seen: list[Mapping[str, Any]] = []
    running = 0
    most = 0

    async def run(kind: Timer, body: Mapping[str, Any], memo: Any) -> None:
        nonlocal running, most
        seen.append(body)
        running += 1
        most = max(most, running)
        try:
            await world.run(kind, body, memo)
        finally:
            running -= 1

    timers = Timers(at_once=2)
    timers.start(
        run=run, facts=world.read, paused=lambda _: False, timings=FAST, rng=random.Random(0)
    )
    for uid in "abcde":
        timers.seen(_body(uid), {})
    await asyncio.sleep(0.1)  # every timer has fired; two passes hold the slots
    assert len(seen) == 2
    waiting = next(uid for uid in "abcde" if uid not in {b["metadata"]["uid"] for b in seen})
    timers.seen(_body(waiting, labels={"v": "newer"}), {})  # arrives while its pass waits
    world.hold.set()
    await asyncio.sleep(0.1)
    await timers.stop()
    assert most == 2
    assert {b["metadata"]["uid"] for b in seen} == set("abcde")
    assert next(b for b in seen if b["metadata"]["uid"] == waiting)["metadata"]["labels"] == {
        "v": "newer"
    }
