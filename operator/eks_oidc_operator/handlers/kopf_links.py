"""The few kopf internals a pass outside kopf's handlers needs, in one place.

The scheduler of ``handlers/timers.py`` runs passes that kopf did not start, so it must write
their status and post their events as kopf would for a timer: kopf's own patch function (its
API credentials, its status-subresource handling, its check that the patch landed) and its
event poster (which kopf hands only to the tasks that process watch events). Both are kopf
internals; the test suite checks they are where this module expects them with the kopf
version installed, so an upgrade that moves them fails the tests, not the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

import kopf

from eks_oidc_operator.handlers.timers import Timers

_log = logging.getLogger(__name__)

POSTER_VARIABLES = ("event_queue_var", "event_queue_loop_var")
"""kopf's context variables that ``kopf.event`` reads: its queue of events, and its loop."""


def adopt(
    links: MutableMapping[str, Any], timers: Timers, handler_kwargs: Mapping[str, Any]
) -> None:
    """Keep what a resource handler is given (``resource``, the ``claims`` index) in ``links``,
    and hand kopf's event poster of the calling task to the timers' passes."""
    from kopf._core.engines import posting

    links["resource"] = handler_kwargs["resource"]
    links["claims"] = handler_kwargs.get("claims")
    for var in POSTER_VARIABLES:
        variable = getattr(posting, var)
        value = variable.get(None)
        if value is not None:
            timers.run_in_context(variable.set, value)


async def write_patch(
    settings: kopf.OperatorSettings, resource: kopf.Resource, body: kopf.Body, patch: kopf.Patch
) -> None:
    """Apply ``patch`` to the object of ``body`` as kopf applies a timer's."""
    from kopf._core.actions import application

    await application.patch_and_check(
        settings=settings, resource=resource, body=body, patch=patch, logger=_log
    )
