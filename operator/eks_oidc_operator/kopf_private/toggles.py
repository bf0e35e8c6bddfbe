"""A start with thousands of objects present, linear in their number instead of quadratic.

When a resource has an index (the ``claims`` index), kopf holds every object's handlers back
until the whole listing is indexed. It does so with one ``ToggleSet`` (``all`` of its toggles)
and one toggle in it per object: the watcher adds a toggle for each new object as it arrives,
and each object's worker drops its own toggle once the object is indexed, then waits on the
set's condition until the set is on. Every add and every drop notifies *all* the waiters, so
with N objects listed at start the N waiting workers are woken about N times each, to find the
set still off: about N²/2 wake-ups. Measured on the 2-core machine, a restart with 10,000
objects present made no pass at all within 300 seconds, its main thread in
``Condition.notify_all`` under ``ToggleSet.make_toggle``.

A waiter on a ``ToggleSet`` waits only for the set's state (``is_on()``), and adding or
dropping a toggle changes no single toggle's state (the toggles share the condition, and a
waiter on one toggle waits for that toggle's state). So :func:`install` makes the set's
``make_toggle``, ``drop_toggle`` and ``drop_toggles`` notify only when the set's state changes:
the waiters are woken once, when the last object of the listing is indexed. The check is cheap:
with ``all``, ``is_on()`` stops at the first toggle that is off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

_log = logging.getLogger(__name__)

_MARK = "_eks_oidc_quiet"


async def _make_toggle(
    self: Any,
    __val: bool = False,
    *,
    name: str | None = None,
) -> Any:
    from kopf._cogs.aiokits.aiotoggles import Toggle

    toggle = Toggle(__val, name=name, condition=self._condition)
    async with self._condition:
        before = self.is_on()
        self._toggles.add(toggle)
        if self.is_on() != before:
            self._condition.notify_all()
    return toggle


async def _drop_toggles(self: Any, toggles: Iterable[Any]) -> None:
    async with self._condition:
        before = self.is_on()
        self._toggles.difference_update(toggles)
        if self.is_on() != before:
            self._condition.notify_all()


async def _drop_toggle(self: Any, toggle: Any) -> None:
    await _drop_toggles(self, (toggle,))


def install() -> bool:
    """Make kopf's ``ToggleSet`` notify its waiters only on a change of its state (once);
    ``False`` if kopf has moved it (then a start with many objects is slow, nothing else)."""
    try:
        from kopf._cogs.aiokits.aiotoggles import ToggleSet
    except ImportError:
        _log.warning("kopf's ToggleSet not found: a start with many objects present is slow")
        return False
    if not all(hasattr(ToggleSet, name) for name in ("make_toggle", "drop_toggle", "is_on")):
        _log.warning("kopf's ToggleSet has changed: a start with many objects present is slow")
        return False
    if getattr(ToggleSet, _MARK, False):
        return True
    ToggleSet.make_toggle = _make_toggle  # type: ignore[method-assign]
    ToggleSet.drop_toggle = _drop_toggle  # type: ignore[method-assign]
    ToggleSet.drop_toggles = _drop_toggles  # type: ignore[method-assign]
    setattr(ToggleSet, _MARK, True)
    return True


def installed() -> bool:
    """Whether kopf's ``ToggleSet`` is patched."""
    from kopf._cogs.aiokits.aiotoggles import ToggleSet

    return bool(getattr(ToggleSet, _MARK, False))
