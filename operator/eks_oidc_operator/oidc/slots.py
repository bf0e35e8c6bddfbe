"""Turns for the issuer pre-flight: so many checks at once in all, and fewer per issuer host.

A check's timeout must count the issuer's own time only. When it also counted the wait for a
free connection, one tenant's slow issuers (or a restart, which checks every stalled object at
once) made other tenants' checks time out, and a timeout only warned: under ``Enforce`` objects
with bad issuers associated. So the wait for a turn is bounded apart, and running out of it is
"not checked yet", never a finding. The per-host bound keeps one host (one tenant's, most
often) from taking every turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class NoTurnError(Exception):
    """No turn came within the wait: the check did not run."""


class Turns:
    """At most ``total`` checks at once, and at most ``per_host`` on one host; a check waits
    ``wait`` seconds for its turn at most."""

    def __init__(self, *, total: int, per_host: int, wait: float) -> None:
        self.wait = wait
        self._all = asyncio.Semaphore(total)
        self._per_host = per_host
        # host -> (its semaphore, checks holding or waiting for it): dropped at zero, so hosts
        # checked once are not remembered for the operator's life.
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[None]:
        """Hold a turn on ``host`` for the block; raise :class:`NoTurnError` after :attr:`wait`
        seconds
        without one. The host's turn is taken first, so a crowded host waits on its own
        semaphore and leaves the shared ones to other hosts."""
        semaphore, users = self._hosts.get(host, (asyncio.Semaphore(self._per_host), 0))
        self._hosts[host] = (semaphore, users + 1)
        try:
            async with asyncio.timeout(self.wait):
                await semaphore.acquire()
                try:
                    await self._all.acquire()
                except BaseException:
                    semaphore.release()
                    raise
        except TimeoutError as error:
            self._leave(host)
            raise NoTurnError(f"no turn for {host} within {self.wait:g} s") from error
        except BaseException:
            self._leave(host)
            raise
        try:
            yield
        finally:
            self._all.release()
            semaphore.release()
            self._leave(host)

    def hosts(self) -> int:
        """Hosts with a check running or waiting."""
        return len(self._hosts)

    def _leave(self, host: str) -> None:
        semaphore, users = self._hosts[host]
        if users <= 1:
            del self._hosts[host]
        else:
            self._hosts[host] = (semaphore, users - 1)
