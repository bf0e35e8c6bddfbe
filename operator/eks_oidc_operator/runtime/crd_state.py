"""Whether the operator's own CRD is being deleted, read on deletion passes.

Deleting the CRD deletes every object with it, each with a deletionTimestamp like any other
deletion: only the CRD tells them apart (its own deletionTimestamp is set before its objects
are deleted). Read afresh on every deletion pass, never cached: a cached "serving" read a moment
before the CRD's deletion would disassociate the very configs the check exists to keep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final, Protocol

from eks_oidc_operator import constants, kubeapi
from eks_oidc_operator.reconcile.observation import CrdState

_log = logging.getLogger(__name__)

TIMEOUT_SECONDS: Final = 10.0


class CrdReader(Protocol):
    """What a deletion pass (and the start-up) asks: the CRD's state, and a word on why it is
    not serving (``not installed``, ``being deleted``, or why it could not be read)."""

    async def state(self) -> tuple[CrdState, str]: ...


class ApiCrdReader:
    """Reads the CRD through the API as the operator's user (``get`` on that one CRD)."""

    def __init__(self, connect: Callable[[], kubeapi.KubeApi] | None = None) -> None:
        self._connect = connect or (lambda: kubeapi.connect(TIMEOUT_SECONDS))
        self._api: kubeapi.KubeApi | None = None

    async def state(self) -> tuple[CrdState, str]:
        return await asyncio.to_thread(self._read)

    def _read(self) -> tuple[CrdState, str]:
        try:
            if self._api is None:
                self._api = self._connect()
            crd = self._api.request("GET", constants.CRD_PATH)
        except kubeapi.ApiError as error:
            if error.status == 404:  # gone already: its objects are going with it
                return CrdState.DELETING, "not installed"
            _log.warning("reading the CRD %s failed: %s", constants.CRD_NAME, error)
            return CrdState.UNREAD, _problem(error)
        if crd.get("metadata", {}).get("deletionTimestamp"):
            return CrdState.DELETING, "being deleted"
        return CrdState.SERVING, ""


def _problem(error: kubeapi.ApiError) -> str:
    if error.status == 403:
        return "403 Forbidden"
    if error.status is None:
        return "no answer from the API server"
    return f"HTTP {error.status}"


class FixedCrdReader:
    """A CRD state given up front (tests of the handlers, which have no API server)."""

    def __init__(self, state: CrdState = CrdState.SERVING, problem: str = "") -> None:
        self.value = (state, problem)

    async def state(self) -> tuple[CrdState, str]:
        return self.value
