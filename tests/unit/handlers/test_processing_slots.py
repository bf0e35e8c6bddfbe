"""kopf's per-event processing, a bounded number of objects at a time once the start's listing
is indexed; never bounded for an index still being built, a deletion, or a DELETED event.

The wrapper is driven as kopf's workers call ``process_resource_event``, with a fake processor
that records how many run at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kopf._cogs.aiokits.aiotoggles import ToggleSet

from eks_oidc_operator.kopf_private import processing_slots


class Processor:
    """Stands in for kopf's processing: each call waits for ``release``; counts the most at
    once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.done = 0
        self.release = asyncio.Event()

    async def __call__(self, *, raw_event: Any, operator_indexed: Any = None, **_: Any) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            if operator_indexed is not None:  # kopf: index, then wait for the whole index
                await operator_indexed.drop_toggle(raw_event["toggle"])
                await operator_indexed.wait_for(True)
            await self.release.wait()
        finally:
            self.running -= 1
            self.done += 1


def _event(uid: str, kind: str = "MODIFIED", **metadata: Any) -> dict[str, Any]:
    return {"type": kind, "object": {"metadata": {"uid": uid, **metadata}}}


async def _run(process: Any, events: list[dict[str, Any]], indexed: Any = None) -> None:
    await asyncio.gather(*(process(raw_event=e, operator_indexed=indexed) for e in events))


async def test_at_most_the_slots_are_processed_at_once_and_the_rest_in_turn() -> None:
    fake = Processor()
    process = processing_slots.bounded(fake, slots=2)
    work = asyncio.create_task(_run(process, [_event(str(i)) for i in range(6)]))
    await asyncio.sleep(0.05)
    assert fake.running == 2
    fake.release.set()
    await asyncio.wait_for(work, timeout=5)
    assert (fake.most, fake.done) == (2, 6)


async def test_deletions_and_deleted_events_never_wait_for_a_slot() -> None:
    fake = Processor()
    process = processing_slots.bounded(fake, slots=1)
    events = [
        _event("a"),  # takes the one slot
        _event("b", deletionTimestamp="2026-12-08T00:00:00Z"),
        _event("c", kind="DELETED"),
    ]
    work = asyncio.create_task(_run(process, events))
    await asyncio.sleep(0.05)
    assert fake.running == 3
    fake.release.set()
    await asyncio.wait_for(work, timeout=5)


async def test_a_start_with_more_objects_than_slots_is_indexed_without_a_deadlock() -> None:
    # kopf at a start: a toggle per listed object; each worker indexes its object, then waits
    # for the whole index before its handlers run. Had the slots applied, the first two would
    # hold them forever waiting for the other eight.
    fake = Processor()
    fake.release.set()
    process = processing_slots.bounded(fake, slots=2)
    indexed = ToggleSet(all)
    events = [_event(str(i)) for i in range(10)]
    for event in events:
        event["toggle"] = await indexed.make_toggle(name=event["object"]["metadata"]["uid"])
    await asyncio.wait_for(_run(process, events, indexed), timeout=5)
    assert fake.done == 10
    assert fake.most == 10  # every worker indexed its object at once
    assert indexed.is_on()
    assert processing_slots.gated(_event("x"), indexed), "once indexed, events take slots"


def test_kopfs_processing_is_wrapped_once() -> None:
    from kopf._core.reactor import processing

    assert processing_slots.install()
    wrapped = processing.process_resource_event
    assert processing_slots.install()
    assert processing.process_resource_event is wrapped
    assert processing_slots.installed()
