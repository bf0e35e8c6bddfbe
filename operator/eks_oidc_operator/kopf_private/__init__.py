"""Everything that reaches into kopf's private modules, and nothing else.

kopf offers no public hook for five things the operator needs, so these modules use its
internals (the project pins kopf to one minor, ``>=1.45,<1.46``, for this reason):

- :mod:`.links`: the scheduler's passes write their status with kopf's own patch function
  (``kopf._core.actions.application.patch_and_check``) and post events through kopf's poster
  (``kopf._core.engines.posting``'s context variables);
- :mod:`.slim_bodies`: every watched body is slimmed before kopf keeps it, by wrapping
  ``kopf._cogs.clients.watching.infinite_watch``;
- :mod:`.toggles`: kopf's wait for the initial listing to be indexed wakes its waiters once,
  not once per object (``kopf._cogs.aiokits.aiotoggles.ToggleSet``);
- :mod:`.processing_slots`: kopf processes a bounded number of objects' events at once, by
  wrapping ``kopf._core.reactor.processing.process_resource_event``.

:data:`USED` lists each of them; ``tests/unit/handlers/test_kopf_private.py`` fails when the
installed kopf no longer has one, so a kopf upgrade that moves them fails the tests, not the
operator. (The operator's log filter names the logger ``kopf._core.engines.posting`` too; a
moved logger only makes the log noisier.)
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Final

USED: Final = (
    ("kopf._core.actions.application", "patch_and_check"),
    ("kopf._core.engines.posting", "event_queue_var"),
    ("kopf._core.engines.posting", "event_queue_loop_var"),
    ("kopf._cogs.clients.watching", "infinite_watch"),
    ("kopf._cogs.aiokits.aiotoggles", "ToggleSet"),
    ("kopf._cogs.aiokits.aiotoggles", "Toggle"),
    ("kopf._core.reactor.processing", "process_resource_event"),
)
"""(module, attribute) of every kopf internal the operator uses."""


def install() -> None:
    """Put the three wrappers in place, before kopf starts watching: every body kopf keeps is
    then without the fields nothing reads, a start with thousands of objects present is not
    quadratic in their number, and a burst's events are processed a bounded number at a time.
    Where the installed kopf has moved what one wraps, the operator runs without that one."""
    from eks_oidc_operator.kopf_private import processing_slots, slim_bodies, toggles

    slim_bodies.install()
    toggles.install()
    processing_slots.install()


def wrap_once(module: str, name: str, wrap: Callable[[Any], Any], mark: str, missing: str) -> bool:
    """Replace kopf's ``module.name`` by ``wrap`` of it, unless it is wrapped already (it
    carries ``mark``); ``False``, with ``missing`` logged, where the installed kopf has moved
    it. kopf looks these names up on its module when it uses them, so the wrapper is used."""
    try:
        owner = importlib.import_module(module)
        original = getattr(owner, name)
    except (ImportError, AttributeError):
        logging.getLogger(__name__).warning(missing)
        return False
    if not getattr(original, mark, False):
        wrapped = wrap(original)
        setattr(wrapped, mark, True)
        setattr(owner, name, wrapped)
    return True


def wrapped(module: str, name: str, mark: str) -> bool:
    """Whether kopf's ``module.name`` is wrapped by :func:`wrap_once`."""
    return bool(getattr(getattr(importlib.import_module(module), name, None), mark, False))
