"""kopf's wait for the initial listing to be indexed: woken once, not once per object.

The set of toggles is driven as kopf's watcher and workers drive it at a start with N objects
listed: a toggle made per object, each worker dropping its own and waiting for the set to be on.
"""

from __future__ import annotations

import asyncio
from unittest import mock

from kopf._cogs.aiokits.aiotoggles import ToggleSet

from eks_oidc_operator.kopf_private import toggles


async def _start(objects: int) -> tuple[int, int]:
    """(workers that got through, notify_all calls) for a listing of ``objects``."""
    indexed = ToggleSet(all)
    listing = await indexed.make_toggle(name="resource listing")
    mine = [await indexed.make_toggle(name=f"object {i}") for i in range(objects)]
    through = 0

    async def worker(toggle: object) -> None:
        nonlocal through
        await indexed.drop_toggle(toggle)  # type: ignore[arg-type]
        await indexed.wait_for(True)
        through += 1

    with mock.patch.object(
        indexed._condition, "notify_all", wraps=indexed._condition.notify_all
    ) as notify:
        tasks = [asyncio.create_task(worker(t)) for t in mine]
        await asyncio.sleep(0.01)
        assert through == 0, "nobody gets through while the listing is not indexed"
        await indexed.drop_toggle(listing)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        return through, notify.call_count


async def test_the_waiters_are_woken_once_when_the_last_object_is_indexed() -> None:
    assert toggles.install()
    through, notified = await _start(2000)
    assert through == 2000
    assert notified == 1  # kopf's own notified 4,000 times (each waking every waiter)


async def test_a_toggle_that_changes_the_sets_state_still_wakes_it() -> None:
    assert toggles.install()
    indexed = ToggleSet(all)
    blocker = await indexed.make_toggle()  # off: the set is off
    waiter = asyncio.create_task(indexed.wait_for(True))
    await asyncio.sleep(0)
    await blocker.turn_to(True)  # a single toggle's state: kopf's own notify
    await asyncio.wait_for(waiter, timeout=1)
    again = asyncio.create_task(indexed.wait_for(False))
    await asyncio.sleep(0)
    await indexed.make_toggle(False)  # the set goes off: its waiters are told
    await asyncio.wait_for(again, timeout=1)
    assert toggles.installed()
