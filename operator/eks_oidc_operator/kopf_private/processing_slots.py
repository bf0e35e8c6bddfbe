"""kopf's processing of an object's watch event, a bounded number of objects at a time.

kopf starts a worker per object and processes each event at once: it wraps the body, builds
the patch, the loggers and the cause, runs the handlers and writes the patch. In a burst the
Kubernetes API takes those writes more slowly than the workers make them (16 connections, and
an API server that on a small machine shares its cores with the operator), so the workers pile
up at the connection pool, each with its object's whole processing context alive: at the peak
of a 2,000-object burst some 900 of them, the largest part of the operator's peak memory.

Here a worker waits for one of :data:`SLOTS` before its event is processed. While it waits it
holds only the event kopf already had (the slimmed, decoded body); what processing builds on
top of it is built once its turn comes. A later event of the same object still replaces the
waiting one (kopf's batching), so a slow turn costs no extra work.

Not gated, because waiting could stall them or everything:

- any event while the start's listing is being indexed: every listed object's worker must
  index its object before any handler may run, so a slot held by a worker waiting for the
  whole index would wait forever for the workers queued behind it;
- an object being deleted: its finalize handler retries with kopf's delays, which kopf sleeps
  inside the processing; a slot would be held for the whole sleep;
- ``DELETED`` events: kopf only forgets the object.

kopf has no hook for this; :func:`install` wraps ``kopf._core.reactor.processing``'s
``process_resource_event``, which kopf looks up once, when the operator starts its tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from eks_oidc_operator.kopf_private import wrap_once, wrapped

SLOTS = 64
"""Objects whose events kopf processes at once (the timers' passes have as many of their own):
four times the API connections, so the connections stay busy while a few handlers wait for an
issuer's turn or the call pacer."""

_MARK = "_eks_oidc_slots"
_PROCESSING = "kopf._core.reactor.processing"  # its process_resource_event, looked up at start

Processor = Callable[..., Awaitable[Any]]


def gated(event: Mapping[str, Any], operator_indexed: Any) -> bool:
    """Whether processing ``event`` waits for a slot (see the module for the exemptions)."""
    if operator_indexed is not None and not operator_indexed.is_on():
        return False
    if event.get("type") == "DELETED":
        return False
    body = event.get("object")
    metadata = body.get("metadata") if isinstance(body, Mapping) else None
    return not (isinstance(metadata, Mapping) and metadata.get("deletionTimestamp"))


def bounded(process: Processor, slots: int = SLOTS) -> Processor:
    """``process`` (kopf's ``process_resource_event``), at most ``slots`` gated events at once."""
    held: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    async def process_resource_event(
        *, raw_event: Mapping[str, Any], operator_indexed: Any = None, **kwargs: Any
    ) -> Any:
        if not gated(raw_event, operator_indexed):
            return await process(raw_event=raw_event, operator_indexed=operator_indexed, **kwargs)
        loop = asyncio.get_running_loop()
        semaphore = held.get(loop)
        if semaphore is None:  # one per loop: a semaphore belongs to the loop it first served
            held.clear()
            semaphore = held[loop] = asyncio.Semaphore(slots)
        async with semaphore:
            return await process(raw_event=raw_event, operator_indexed=operator_indexed, **kwargs)

    return process_resource_event


def install() -> bool:
    """Wrap kopf's per-event processing with :func:`bounded` (once); ``False`` if kopf has
    moved it (then events are processed as kopf does: a higher peak, nothing else changes)."""
    return wrap_once(
        _PROCESSING,
        "process_resource_event",
        bounded,
        _MARK,
        "kopf's event processing not found: processed without a bound",
    )


def installed() -> bool:
    """Whether kopf's event processing is wrapped."""
    return wrapped(_PROCESSING, "process_resource_event", _MARK)
