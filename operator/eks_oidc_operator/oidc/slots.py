"""Turns for the issuer pre-flight: so many checks at once in all, fewer per tenant (the
object's namespace) and per issuer host.

A check's timeout must count the issuer's own time only. When it also counted the wait for a
free connection, one tenant's slow issuers (or a restart, which checks every stalled object at
once) made other tenants' checks time out, and a timeout only warned: under ``Enforce`` objects
with bad issuers associated. So the wait for a turn is bounded apart, and running out of it is
"not checked yet", never a finding. The per-tenant bound keeps one namespace's issuers (on as
many host names as it likes) from taking every turn; the per-host bound keeps one host from
taking a tenant's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager


class NoTurnError(Exception):
    """No turn came within the wait: the check did not run."""


class _Keyed:
    """A semaphore per key, made on first use and dropped when no one holds or waits for it
    (hosts and tenants seen once are not remembered for the operator's life)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def held(self, key: str) -> AsyncIterator[None]:
        semaphore, users = self._entries.get(key, (asyncio.Semaphore(self._size), 0))
        self._entries[key] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._entries[key]
            if users <= 1:
                del self._entries[key]
            else:
                self._entries[key] = (semaphore, users - 1)

    def __len__(self) -> int:
        return len(self._entries)


class Turns:
    """At most ``total`` checks at once, ``per_tenant`` for one tenant and ``per_host`` on one
    host; a check waits ``wait`` seconds for its turn at most."""

    def __init__(self, *, total: int, per_host: int, wait: float, per_tenant: int = 4) -> None:
        self.wait = wait
        self._all = asyncio.Semaphore(total)
        self._tenants = _Keyed(per_tenant)
        self._hosts = _Keyed(per_host)

    @asynccontextmanager
    async def turn(self, host: str, tenant: str = "") -> AsyncIterator[None]:
        """Hold a turn for ``tenant`` on ``host`` for the block; raise :class:`NoTurnError` after
        :attr:`wait` seconds without one. The narrowest bounds are taken first, so a crowded
        tenant or host waits on its own semaphore and leaves the shared one to the others."""
        async with AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(self.wait):
                    await stack.enter_async_context(self._tenants.held(tenant))
                    await stack.enter_async_context(self._hosts.held(host))
                    await stack.enter_async_context(self._all)
            except TimeoutError as error:
                raise NoTurnError(f"no turn for {host} within {self.wait:g} s") from error
            yield
