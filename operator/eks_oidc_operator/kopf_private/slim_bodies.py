"""Bodies kept small: what the watch delivers loses the fields nothing reads, before kopf keeps it.

kopf keeps the latest body of every object it watches for as long as the object lives (a
timer's memory holds it between runs), so at fleet scale the bodies are the largest part of
the operator's heap. Two parts of every body are read by nothing in the operator or in kopf:

- ``metadata.managedFields``: the API server's server-side-apply bookkeeping, one entry per
  field manager (kubectl, this operator's status writes, kopf's annotations and finalizer),
  each a tree that mirrors every field it set. For an object with conditions in its status it
  is the largest part of the body (dropping it and the annotation below took about 20 KiB per
  object off the operator's peak at 1,000 objects; what is left decodes to about 10 KiB).
- kubectl's ``last-applied-configuration`` annotation (client-side ``kubectl apply``): the
  applied object again, as a JSON string.

What is left is also deduplicated across objects: every body is decoded on its own, so each
carries its own copy of every key (``lastTransitionTime``, ``observedGeneration``, ...) and of
every common value (``True``, the kind, the namespace, reasons).
:func:`shared` re-makes the
body with each key and each short string value interned, one copy for the whole fleet.

They are dropped from each watch event as it arrives, before kopf stores or dispatches it
(controller-runtime's ``TransformStripManagedFields`` does the same for Go controllers). Writes
are unaffected: kopf writes merge patches of only the fields it changes, never a whole body,
and the API server keeps the live object's managedFields and annotations either way. kopf's own
``last-handled-configuration`` annotation stays: its change detection reads it.

kopf has no hook for this; the one place every watched object passes through is its
``infinite_watch`` (the initial listing and the watch stream alike), which :func:`install`
wraps. The test suite checks that the wrapper is in place with the kopf version installed.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import Any

from eks_oidc_operator.kopf_private import wrap_once, wrapped

DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
"""Annotations no handler reads (kopf's own are kept: its change detection needs them)."""

_MARK = "_eks_oidc_slims"
_WATCHING = "kopf._cogs.clients.watching"  # its infinite_watch: the listing and the watch stream

SHARED_VALUE_CHARS = 64
"""String values up to this long are interned (names, reasons, timestamps); longer ones
(messages, kopf's last-handled configuration) are nearly always unique, so left as they are."""


def shared(value: Any) -> Any:
    """``value`` (decoded JSON) re-made with its keys and short strings interned.

    Pure apart from the interning: equal to ``value``; dicts and lists are new.
    """
    if isinstance(value, dict):
        return {sys.intern(key): shared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shared(item) for item in value]
    if isinstance(value, str) and len(value) <= SHARED_VALUE_CHARS:
        return sys.intern(value)
    return value


def slim(body: MutableMapping[str, Any]) -> None:
    """Drop ``managedFields`` and :data:`DROPPED_ANNOTATIONS` from ``body``, in place (so the
    dropped parts are freed at once, even while a listing's other items are still held)."""
    metadata = body.get("metadata")
    if not isinstance(metadata, MutableMapping):
        return
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations")
    if isinstance(annotations, MutableMapping):
        for key in DROPPED_ANNOTATIONS:
            annotations.pop(key, None)


def slimming(
    watch: Callable[..., AsyncIterator[Any]],
) -> Callable[..., AsyncIterator[Any]]:
    """``watch`` (kopf's ``infinite_watch``), its events' objects slimmed on the way out."""

    async def infinite_watch(**kwargs: Any) -> AsyncIterator[Any]:
        async for raw_event in watch(**kwargs):
            if isinstance(raw_event, MutableMapping):  # not one of kopf's bookmarks
                obj = raw_event.get("object")
                if isinstance(obj, MutableMapping):
                    slim(obj)
                    raw_event["object"] = shared(obj)
            yield raw_event

    return infinite_watch


def install() -> bool:
    """Wrap kopf's watch stream with :func:`slimming` (once); ``False`` if kopf has moved it
    (then bodies are kept whole: more memory, nothing else changes)."""
    return wrap_once(
        _WATCHING,
        "infinite_watch",
        slimming,
        _MARK,
        "kopf's watch stream not found: bodies are kept whole (more memory)",
    )


def installed() -> bool:
    """Whether kopf's watch stream is wrapped."""
    return wrapped(_WATCHING, "infinite_watch", _MARK)
