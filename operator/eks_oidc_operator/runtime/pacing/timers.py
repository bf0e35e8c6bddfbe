"""One scheduler for every object's polls and drift checks, in place of kopf's timers.

Why not kopf timers: kopf runs each timer of each object as a task of its own, with its own
stopper (a threading event and an asyncio event), cause, patch, logger and the sleeping
coroutines under it: about 10 KiB per object, measured with tracemalloc at 1,000 objects, for
an object that mostly waits ten minutes to look at EKS once. Here an object that waits costs an
event-loop timer handle and one small slotted record; a task exists only while its pass runs.

The record keeps the object's latest body as compact JSON, not as the dict the watch decoded:
nothing else holds a settled object's body between its passes, and the dict (its keys and
common values interned already) took about three times the bytes, some 5 KiB more per object.
A pass decodes it when it starts, a few microseconds against its milliseconds.

What it does is what the two timers did:

- ``poll``: while EKS works on the object, or while it waits for its turn at the cluster gate,
  or while a pass it ran owes a retry. It waits as long as the last plan said (a queued object
  waits for the gate's :meth:`Timers.wake`, with the drift interval only as a safety net), then
  one pass.
- ``resync``: while nothing is in flight, a pass about every drift interval, the first one
  spread over half to one and a half of it (objects settled together do not check together).
- nothing: while the object is paused or being deleted (the finalize handler owns deletion).

Which of those an object needs is decided by
:func:`eks_oidc_operator.reconcile.scheduling.next_timer` (pure), from the facts of the
status its last pass wrote, every time the watch shows the object and after every pass. The
passes themselves, and writing their status, are the caller's (``run``): the scheduler only
decides when.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eks_oidc_operator.reconcile.scheduling import Due, Timer, TimerFacts, next_timer
from eks_oidc_operator.reconcile.timing import Timings
from eks_oidc_operator.runtime import object_state

_log = logging.getLogger(__name__)

PASSES_AT_ONCE = 64
"""Timer passes that run at once; the rest wait for a slot before they decode their body.

A pass's last step is its status write, and the Kubernetes API takes writes no faster than
its connections (16 by default) carry them. In a burst of 2,000 objects some 380 timer passes
were found waiting for a connection at once, each holding its decoded body, inputs and plan;
waiting for a slot here costs a task and this function's frame. 64 leaves room for passes
that wait a moment at the call pacer's admission (at most 2 s before they are placed) without
holding up the others' turns for long."""

FAILED_PASS_DELAY = 60.0
"""How long after a pass that raised the scheduler tries again (kopf's own default backoff for
a handler's unexpected error)."""


@dataclass(slots=True)
class _Entry:
    packed: bytes
    """The latest body the watch delivered, as compact JSON (see the module)."""
    memo: Any
    """The object's kopf memo."""
    kind: Timer | None = None
    handle: asyncio.TimerHandle | None = None
    running: bool = False
    woken: bool = False

    def body(self) -> dict[str, Any]:
        """The latest body, decoded (a new dict each time)."""
        decoded: dict[str, Any] = json.loads(self.packed)
        return decoded


Run = Callable[[Timer, Mapping[str, Any], Any], Awaitable[None]]
"""Runs one pass of ``kind`` for an object (its body and memo) and writes what it changed."""

FactsReader = Callable[[Mapping[str, Any], Any], TimerFacts]
"""Reads what the choice of a timer rests on from an object's body and memo."""


class Timers:
    """The scheduler. Everything runs on the event loop of :meth:`start`; :meth:`wake` is the
    one method other threads may call."""

    def __init__(self, at_once: int = PASSES_AT_ONCE) -> None:
        self._entries: dict[str, _Entry] = {}
        self._at_once = at_once
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context: contextvars.Context | None = None
        self._run: Run | None = None
        self._facts: FactsReader | None = None
        self._paused: Callable[[Mapping[str, str]], bool] = lambda _: False
        self._timings = Timings()
        self._rng = random.Random()  # noqa: S311 - jitter, not secrets
        self._tasks: set[asyncio.Task[None]] = set()

    def start(
        self,
        *,
        run: Run,
        facts: FactsReader,
        paused: Callable[[Mapping[str, str]], bool],
        timings: Timings,
        rng: random.Random,
        context: contextvars.Context | None = None,
    ) -> None:
        """Start on the running loop; passes run in ``context`` (kopf's, for its API client
        and event poster), by default a copy of the current one."""
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self._at_once)  # made on the loop it serves
        self._context = context if context is not None else contextvars.copy_context()
        self._run, self._facts, self._paused = run, facts, paused
        self._timings, self._rng = timings, rng

    @property
    def started(self) -> bool:
        """Whether :meth:`start` was called."""
        return self._loop is not None

    def run_in_context(self, function: Callable[..., Any], *args: Any) -> None:
        """Call ``function(*args)`` inside the context the passes run in (to set a variable)."""
        assert self._context is not None
        self._context.run(function, *args)

    def scheduled(self) -> dict[str, Timer]:
        """Each object's timer (for tests and diagnostics): uid -> kind."""
        return {uid: e.kind for uid, e in self._entries.items() if e.kind is not None}

    def seen(self, body: Mapping[str, Any], memo: Any) -> None:
        """The watch delivered ``body`` (not a deletion): keep it, and give it the timer it
        needs now."""
        metadata = body.get("metadata") or {}
        uid = str(metadata.get("uid") or "")
        if not uid or not self.started:
            return
        if metadata.get("deletionTimestamp"):
            # No timer runs for an object being deleted (the finalize handler owns it), so it
            # is not kept either: its DELETED event may never come (a re-list does not replay
            # deletions).
            self.gone(uid)
            return
        packed = object_state.packed(body)
        entry = self._entries.get(uid)
        if entry is None:
            entry = self._entries[uid] = _Entry(packed, memo)
        entry.packed, entry.memo = packed, memo
        self._plan(uid, entry, fresh=False, body=body)

    def passed(self, uid: str) -> None:
        """A pass of the object ran elsewhere (a kopf handler): its timer may change."""
        entry = self._entries.get(uid)
        if entry is not None and not entry.running:
            self._plan(uid, entry, fresh=False)

    def gone(self, uid: str) -> None:
        """The object was deleted: forget it."""
        entry = self._entries.pop(uid, None)
        if entry is not None and entry.handle is not None:
            entry.handle.cancel()

    def wake(self, uid: str) -> None:
        """The cluster gate says it is this object's turn. Any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._woken, uid)

    async def stop(self) -> None:
        """Cancel every timer and the passes running now (as kopf cancels its timers at exit:
        a pass cut short is safe, the next process's resume pass picks up from the status)."""
        for entry in self._entries.values():
            if entry.handle is not None:
                entry.handle.cancel()
        self._entries.clear()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _woken(self, uid: str) -> None:
        entry = self._entries.get(uid)
        if entry is None:
            return
        entry.woken = True
        if not entry.running:
            self._plan(uid, entry, fresh=True)

    def _plan(
        self, uid: str, entry: _Entry, *, fresh: bool, body: Mapping[str, Any] | None = None
    ) -> None:
        """Set the entry's timer. ``fresh``: after its own pass (or a wake-up), so the delay
        starts now; otherwise a timer of the same kind already set is left as it is (an
        unrelated watch event must not put a drift check off forever). ``body``: the entry's
        body already decoded, if the caller has it."""
        assert self._facts is not None
        assert self._loop is not None
        due = self._due(entry, entry.body() if body is None else body)
        if due is None or due.kind is Timer.RESYNC:
            entry.woken = False  # a wake-up is for a queued object's poll only
        if due is None:
            self._cancel(entry)
            return
        if entry.running:
            return  # planned again when the pass ends
        if not fresh and self._stands(entry, due):
            return
        self._cancel(entry)
        entry.kind = due.kind
        entry.handle = self._loop.call_at(
            self._loop.time() + due.delay, self._fire, uid, context=self._context
        )

    def _due(self, entry: _Entry, body: Mapping[str, Any]) -> Due | None:
        """The timer the object needs now, from its body and memo (``None``: no timer)."""
        assert self._facts is not None
        metadata = body.get("metadata") or {}
        facts = self._facts(body, entry.memo)
        return next_timer(
            waiting=facts.waiting,
            queued=facts.queued,
            paused=self._paused(metadata.get("annotations") or {}),
            deleting=bool(metadata.get("deletionTimestamp")),
            retries_owed=facts.owed,
            poll_after=facts.poll_after,
            woken=entry.woken,
            timings=self._timings,
            rng=self._rng,
        )

    def _stands(self, entry: _Entry, due: Due) -> bool:
        """Whether the timer already set stays as it is rather than being replaced by ``due``.
        A drift check stays where it is (unrelated watch events must not put it off forever);
        a poll moves only earlier (an association started by another pass while the object
        waited for the gate's wake-up)."""
        assert self._loop is not None
        if entry.kind != due.kind or entry.handle is None:
            return False
        sooner = self._loop.time() + due.delay < entry.handle.when()
        return due.kind is Timer.RESYNC or not sooner

    def _cancel(self, entry: _Entry) -> None:
        if entry.handle is not None:
            entry.handle.cancel()
        entry.handle, entry.kind = None, None

    def _fire(self, uid: str) -> None:
        entry = self._entries.get(uid)
        if entry is None or entry.kind is None or entry.running:
            return
        assert self._loop is not None
        kind, entry.handle, entry.running, entry.woken = entry.kind, None, True, False
        task = self._loop.create_task(self._pass(uid, entry, kind), context=self._context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pass(self, uid: str, entry: _Entry, kind: Timer) -> None:
        assert self._run is not None
        assert self._loop is not None
        assert self._slots is not None
        failed = False
        try:
            async with self._slots:  # the body is decoded only once the pass has its slot
                await self._run(kind, entry.body(), entry.memo)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("the %s pass of %s failed; trying again later", kind, uid)
            failed = True
        finally:
            entry.running = False
        if self._entries.get(uid) is not entry:
            return  # deleted meanwhile
        if failed:
            self._retry(uid, entry, kind)
            return
        self._plan(uid, entry, fresh=True)

    def _retry(self, uid: str, entry: _Entry, kind: Timer) -> None:
        """A pass raised: the same timer again in :data:`FAILED_PASS_DELAY`, unless the object
        now needs none (paused meanwhile)."""
        assert self._loop is not None
        self._plan(uid, entry, fresh=True)  # cancels it when no timer is due
        if entry.handle is None:
            return
        entry.handle.cancel()
        entry.kind = kind
        entry.handle = self._loop.call_at(
            self._loop.time() + FAILED_PASS_DELAY, self._fire, uid, context=self._context
        )
