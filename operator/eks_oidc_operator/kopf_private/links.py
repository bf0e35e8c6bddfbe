"""The few kopf internals a pass outside kopf's handlers needs, in one place.

The scheduler of ``runtime/pacing/timers.py`` runs passes that kopf did not start, so it must write
their status and post their events as kopf would for a timer: kopf's own patch function (its
API credentials, its status-subresource handling, its check that the patch landed) and its
event poster (which kopf hands only to the tasks that process watch events). Both are kopf
internals; the test suite checks they are where this module expects them with the kopf
version installed, so an upgrade that moves them fails the tests, not the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from eks_oidc_operator.runtime.pacing.timers import Timers

_log = logging.getLogger(__name__)

POSTER_VARIABLES = ("event_queue_var", "event_queue_loop_var")
"""kopf's context variables that ``kopf.event`` reads: its queue of events, and its loop."""


@dataclass(slots=True)
class KopfLinks:
    """What the timers' passes need of kopf, as kopf hands it over: its settings (at start-up),
    the watched resource and the claims index (to the first resource handler)."""

    settings: kopf.OperatorSettings | None = None
    resource: kopf.Resource | None = None
    claims: Any = None


def adopt(links: KopfLinks, timers: Timers, handler_kwargs: Mapping[str, Any]) -> None:
    """Keep what a resource handler is given (``resource``, the ``claims`` index) in ``links``,
    and hand kopf's event poster of the calling task to the timers' passes."""
    from kopf._core.engines import posting

    links.resource = handler_kwargs["resource"]
    links.claims = handler_kwargs.get("claims")
    for var in POSTER_VARIABLES:
        variable = getattr(posting, var)
        value = variable.get(None)
        if value is not None:
            timers.run_in_context(variable.set, value)


async def write_patch(links: KopfLinks, body: kopf.Body, patch: kopf.Patch) -> None:
    """Apply ``patch`` to the object of ``body`` as kopf applies a timer's."""
    from kopf._core.actions import application

    if links.settings is None or links.resource is None:
        raise RuntimeError("a timer pass ran before kopf handed over its settings and resource")
    await application.patch_and_check(
        settings=links.settings, resource=links.resource, body=body, patch=patch, logger=_log
    )
