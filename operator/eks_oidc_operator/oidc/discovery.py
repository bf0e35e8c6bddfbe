"""Fetch an issuer's discovery document and key set, as EKS will, and say what was found.

I/O only: every answer becomes an :class:`~eks_oidc_operator.reconcile.guards.issuer.IssuerCheck`,
whose meaning is decided by pure code. aiohttp (kopf's own HTTP client) does the HTTP; TLS is
verified against the system's CAs plus an optional bundle for private CAs.

The URL is a tenant's, so the fetch is built to hurt nothing: it connects only where the fence
(:mod:`eks_oidc_operator.oidc.fence`) allows, to the very addresses it vetted; it reads a
bounded, uncompressed body and parses it off the event loop; it takes its turn among the other
checks before its timeout starts; and what the tenant is told is coarse, with the details
(HTTP status, TLS error, what the issuer said) for the operator's log only.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from eks_oidc_operator.oidc.fence import (
    IssuerFence,
    connect_host,
    literal_refusal,
    scheme_refusal,
)
from eks_oidc_operator.oidc.slots import NoTurnError, Turns
from eks_oidc_operator.reconcile.guards import issuer
from eks_oidc_operator.reconcile.guards.issuer import IssuerCheck

DISCOVERY_PATH = "/.well-known/openid-configuration"

_log = logging.getLogger(__name__)

# What a tenant is told, by reason: fixed words, so nothing fetched reaches status.
_TOLD = {
    issuer.UNREACHABLE: "no connection could be made to it from the management cluster (no "
    "address, refused, or no answer); the association goes ahead, as EKS may reach it",
    issuer.NOT_ALLOWED: "the operator does not fetch it: issuers and their jwks_uri must be "
    "https URLs on public addresses, unless the operator's admin allows the range",
    issuer.NOT_CHECKED: "not checked yet: too many issuer checks are running (on its host, "
    "or in all); it is checked again in seconds",
}
_WRONG = {
    "document": "its discovery document is not one EKS can use (it must answer HTTP 200, "
    "unredirected, over TLS that verifies, with uncompressed JSON of at most 256 KiB, in time)",
    "issuer": "its discovery document names another issuer: it must equal spec.oidc.issuerUrl "
    "character for character (a trailing slash counts)",
    "keys": "its jwks_uri gives no usable key set (an https URL answering, as the document "
    "must, with at least one key)",
}


class _FoundError(Exception):
    """The check ends here with ``problem``; ``detail`` is for the log."""

    def __init__(self, problem: str, detail: str, told: str = "") -> None:
        super().__init__(detail)
        self.problem = problem
        self.told = told or _TOLD.get(problem, "")


class _FencedError(OSError):
    """The host resolves only to addresses the fence refuses (aiohttp wraps it as a DNS error)."""


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's trust store, plus ``ca_file`` (PEM) when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


TOTAL_TURNS = 16
"""Checks running at once, in all (and connections the pre-flight's client may open)."""
HOST_TURNS = 2
"""Checks running at once on one issuer host."""
LOOKUP_THREADS = 2 * TOTAL_TURNS
"""Threads for the issuers' DNS lookups, apart from the pool the blocking EKS calls run in.
Twice the turns: a lookup that timed out keeps its thread until the resolver gives up. When
all are still busy that way (a tenant's names that no server answers), a lookup is not queued
behind them, where its wait would count against its own bound: the check is "not checked
yet", never a finding."""

_lookups = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="issuer-dns")
_parsers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="issuer-parse")
"""Parsing has threads of its own, so it never waits behind a stuck lookup."""


class _NoThreadError(OSError):
    """Every lookup thread is busy: the lookup was not started (aiohttp wraps it)."""


Lookup = Callable[..., list[tuple[Any, ...]]]
"""``socket.getaddrinfo``'s shape (tests hand in their own answers)."""


class FencedResolver(AbstractResolver):
    """aiohttp's resolver for the pre-flight: looks the host up on the lookups' threads, and
    gives aiohttp only the addresses the fence permits, so the address connected to is always
    one that was checked (a name that answers a public address to one lookup and loopback to
    the next gains nothing: there is no second lookup)."""

    def __init__(self, fence: IssuerFence, lookup: Lookup = socket.getaddrinfo) -> None:
        self._fence = fence
        self._lookup = lookup
        self._busy = 0  # lookups whose thread has not returned (timed out ones included)
        self._lock = threading.Lock()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        with self._lock:
            if self._busy >= LOOKUP_THREADS:
                raise _NoThreadError(f"all {LOOKUP_THREADS} lookup threads are busy")
            self._busy += 1

        def call() -> list[tuple[Any, ...]]:
            try:
                return self._lookup(host, port, family, socket.SOCK_STREAM)
            finally:
                with self._lock:
                    self._busy -= 1

        try:
            infos = await asyncio.get_running_loop().run_in_executor(_lookups, call)
        except socket.gaierror as error:
            raise OSError(f"cannot look up {host}: {error.strerror}") from error
        permitted: list[ResolveResult] = []
        refused: list[str] = []
        for found_family, _, proto, _, address in infos:
            ip = str(address[0])
            if not self._fence.permits(ip):
                refused.append(ip)
                continue
            permitted.append(
                ResolveResult(
                    hostname=host,
                    host=ip,
                    port=int(address[1]),
                    family=found_family,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        if not permitted:
            raise _FencedError(f"{host} resolves to {', '.join(refused) or 'nothing'}")
        return permitted

    async def close(self) -> None:
        return None


async def check_issuer(
    session: aiohttp.ClientSession, url: str, limit: aiohttp.ClientTimeout, fence: IssuerFence
) -> IssuerCheck:
    """One pre-flight of ``url``: discovery document, ``issuer`` equality, and keys."""
    discovery = url.rstrip("/") + DISCOVERY_PATH
    try:
        document = await _get_json(session, discovery, limit, fence, "document")
        named = document.get("issuer")
        if named != url:
            raise _FoundError(
                issuer.ANSWERED_WRONGLY, f"{discovery} names issuer {named!r}", _WRONG["issuer"]
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise _FoundError(issuer.ANSWERED_WRONGLY, f"{discovery}: no jwks_uri", _WRONG["keys"])
        keys = (await _get_json(session, jwks_uri, limit, fence, "keys")).get("keys")
        if not isinstance(keys, list) or not keys:
            raise _FoundError(issuer.ANSWERED_WRONGLY, f"{jwks_uri}: no keys", _WRONG["keys"])
    except _FoundError as found:
        _log.info("issuer pre-flight of %s: %s: %s", url, found.problem, found)
        return IssuerCheck(url, found.problem, f"issuer {url}: {found.told}", str(found))
    except Exception as error:
        # A cached failure would raise at every pass of every object on the issuer: any
        # surprise (a parser's RecursionError, a URL no library parses) is a wrong answer.
        _log.info("issuer pre-flight of %s: %s", url, error, exc_info=True)
        told = _WRONG["document"]
        return IssuerCheck(url, issuer.ANSWERED_WRONGLY, f"issuer {url}: {told}", repr(error))
    return IssuerCheck(
        url,
        message=f"issuer {url}: its discovery document and key set answer as EKS needs",
        detail=f"{discovery} and {jwks_uri} answer as EKS needs",
    )


MAX_DOCUMENT_BYTES = 256 * 1024
"""The most the pre-flight reads of a discovery document or a key set. Real ones weigh a few
KiB (a key set of many keys, tens). Without a bound, one hostile issuer's 300 MB answer took the
operator past its memory limit, for every tenant at once."""
READ_CHUNK_BYTES = 16 * 1024


async def _get_json(
    session: aiohttp.ClientSession,
    url: str,
    limit: aiohttp.ClientTimeout,
    fence: IssuerFence,
    what: str,
) -> dict[str, Any]:
    """GET ``url`` within the fence and the bounds; ``what`` (document, keys) words a wrong
    answer for the tenant."""
    refusal = scheme_refusal(url)
    if refusal is not None:
        raise _FoundError(issuer.NOT_ALLOWED, refusal)
    # aiohttp asks no resolver for an address: the fence judges the host aiohttp will use.
    refusal = literal_refusal(connect_host(url), fence)
    if refusal is not None:
        raise _FoundError(issuer.NOT_ALLOWED, f"{url}: {refusal}")
    wrong = _WRONG[what]
    try:
        # No redirects: EKS fetches the document where the issuer says it is. No compression:
        # a small gzip body can inflate a thousandfold, so the session never inflates and a
        # compressed answer (to a request for none) is refused.
        async with session.get(
            url, timeout=limit, allow_redirects=False, headers={"Accept-Encoding": "identity"}
        ) as response:
            _check_peer(response, fence, url)
            if response.status != 200:
                raise _FoundError(
                    issuer.ANSWERED_WRONGLY, f"GET {url}: HTTP {response.status}", wrong
                )
            encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise _FoundError(
                    issuer.ANSWERED_WRONGLY, f"GET {url}: {encoding}-encoded, asked for none", wrong
                )
            raw = await _read_bounded(response, url, wrong)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise _failure(error, url, wrong) from error
    # Parsed on the lookups' threads: even a bounded document is no work for the event loop.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_parsers, _parse_object, raw, url, wrong)


def _failure(error: Exception, url: str, wrong: str) -> _FoundError:
    """What a failed GET means: the fence's refusal, no connection (the network's fault), or
    the issuer's (connected, then a TLS failure, too slow, cut off, a URL that is none)."""
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(error.os_error, _FencedError):
        return _FoundError(issuer.NOT_ALLOWED, f"{url}: {error.os_error}")
    if isinstance(error, aiohttp.ClientSSLError | aiohttp.ClientConnectorCertificateError):
        return _FoundError(issuer.ANSWERED_WRONGLY, f"GET {url}: TLS: {error}", wrong)
    if isinstance(error, aiohttp.ClientConnectorError):
        return _FoundError(issuer.UNREACHABLE, f"GET {url}: {error.os_error}")
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return _FoundError(issuer.UNREACHABLE, f"GET {url}: no answer to the connect")
    if isinstance(error, aiohttp.InvalidURL):  # a relative or malformed jwks_uri
        return _FoundError(issuer.ANSWERED_WRONGLY, f"{url!r} is not a URL", wrong)
    detail = str(error) or type(error).__name__
    return _FoundError(issuer.ANSWERED_WRONGLY, f"GET {url}: {detail}", wrong)


def _check_peer(response: aiohttp.ClientResponse, fence: IssuerFence, url: str) -> None:
    """The address actually connected to is one the fence permits (the resolver hands aiohttp
    only those; this holds the line should a connection ever come from elsewhere)."""
    connection = response.connection
    peer = (
        connection.transport.get_extra_info("peername")
        if connection and connection.transport
        else None
    )
    if peer is not None and not fence.permits(str(peer[0])):
        raise _FoundError(issuer.NOT_ALLOWED, f"{url}: connected to {peer[0]}, not permitted")


async def _read_bounded(response: aiohttp.ClientResponse, url: str, wrong: str) -> bytes:
    """The body, read in chunks and never past :data:`MAX_DOCUMENT_BYTES`."""
    too_big = f"GET {url}: more than the {MAX_DOCUMENT_BYTES} bytes the pre-flight reads"
    if response.content_length is not None and response.content_length > MAX_DOCUMENT_BYTES:
        raise _FoundError(issuer.ANSWERED_WRONGLY, too_big, wrong)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise _FoundError(issuer.ANSWERED_WRONGLY, too_big, wrong)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_object(raw: bytes, url: str, wrong: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as error:  # [[[[... nests past the parser's depth
        raise _FoundError(
            issuer.ANSWERED_WRONGLY, f"GET {url}: not JSON ({error})", wrong
        ) from error
    if not isinstance(body, dict):
        raise _FoundError(issuer.ANSWERED_WRONGLY, f"GET {url}: not a JSON object", wrong)
    return body


class IssuerChecker:
    """Pre-flights with a short cache, so many objects on one issuer fetch it once.

    Concurrent checks of one URL share one fetch; a result is reused for ``ttl`` seconds, and
    forgotten soon after (a fleet of a thousand issuers, each checked once when its object is
    created, would otherwise keep a thousand results for the operator's life). A check that got
    no turn is not a result, and is not kept.
    """

    def __init__(
        self,
        *,
        ca_file: str | None,
        timeout: float,
        ttl: float,
        fence: IssuerFence | None = None,
        lookup: Lookup = socket.getaddrinfo,
        turns: Turns | None = None,
    ) -> None:
        self._ca_file = ca_file
        # Reaching the issuer (lookup and connect) and its answering are bounded apart: no
        # connection within ``timeout`` is the network's failure (ConnectionTimeoutError, which
        # only warns); once connected, a silence of ``timeout`` between reads, or a whole
        # fetch past twice it (a slow drip), is the issuer's. A single total bound fired first
        # during a slow lookup and called a network failure the issuer's.
        self._limit = aiohttp.ClientTimeout(total=2 * timeout, connect=timeout, sock_read=timeout)
        self._ttl = ttl
        self._fence = fence or IssuerFence()
        self._lookup = lookup
        # A check waits for its turn as long as one fetch may take, by default: a crowded host
        # delays its objects' checks by about one fetch, then they are "not checked yet".
        self._turns = turns or Turns(total=TOTAL_TURNS, per_host=HOST_TURNS, wait=timeout)
        self._session: aiohttp.ClientSession | None = None
        # A fetch's task while it runs, its result once done: a finished task would keep its
        # coroutine's frame and more (about 1 KiB each, a thousand issuers a thousand of them).
        self._results: dict[str, tuple[float, asyncio.Task[IssuerCheck] | IssuerCheck]] = {}
        self._swept = 0.0

    async def check(self, url: str, tenant: str = "") -> IssuerCheck:
        """The pre-flight of ``url`` for an object of ``tenant`` (its namespace), fetched or
        from the cache."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        cached = self._results.get(url)
        if cached is None or now - cached[0] > self._ttl:
            self._forget_expired(now)
            # In a context of its own: a task keeps the context it was made in for as long as
            # it is kept (here, the cache's lifetime), and the caller's is a kopf handler's,
            # whose cause holds that object's body, patch and loggers (about 10 KiB an object
            # at fleet scale). The fetch needs none of it.
            task = loop.create_task(self._run(url, tenant), context=contextvars.Context())
            self._results[url] = cached = (now, task)
            task.add_done_callback(lambda done: self._settle(url, cached, done))
        held = cached[1]
        return held if isinstance(held, IssuerCheck) else await asyncio.shield(held)

    def _settle(
        self,
        url: str,
        kept: tuple[float, asyncio.Task[IssuerCheck] | IssuerCheck],
        task: asyncio.Task[IssuerCheck],
    ) -> None:
        """A fetch ended: keep its result in place of its task, unless it got no turn (that is
        not a result) or failed (its callers see the error; the next check fetches again)."""
        if self._results.get(url) is not kept:
            return  # forgotten meanwhile, or replaced by a newer fetch
        found = None if task.cancelled() or task.exception() else task.result()
        if found is None or found.problem == issuer.NOT_CHECKED:
            del self._results[url]
        else:
            self._results[url] = (kept[0], found)

    async def _run(self, url: str, tenant: str) -> IssuerCheck:
        """Take a turn (waiting at most the timeout), then check with the timeout to itself."""
        try:  # the host as the fence and the connection see it, so its spellings share turns
            host = connect_host(url).lower()
        except ValueError:
            host = url  # not a URL: the check itself says so
        try:
            async with self._turns.turn(host, tenant):
                return await check_issuer(self._client(), url, self._limit, self._fence)
        except NoTurnError as none:
            _log.info("issuer pre-flight of %s: %s", url, none)
            return IssuerCheck(
                url, issuer.NOT_CHECKED, f"issuer {url}: {_TOLD[issuer.NOT_CHECKED]}", str(none)
            )

    def cached(self) -> int:
        """How many results are kept (fresh, or expired since the last sweep)."""
        return len(self._results)

    def _forget_expired(self, now: float) -> None:
        # At most once per ttl, so a burst of new issuers does not scan the cache each time.
        if now - self._swept < self._ttl:
            return
        self._swept = now
        for url in [u for u, (at, _) in self._results.items() if now - at > self._ttl]:
            # A fetch still running is awaited by its callers, who hold its task.
            del self._results[url]

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=ssl_context(self._ca_file),
                limit=TOTAL_TURNS,  # the turns bound it already; never a wait of its own
                resolver=FencedResolver(self._fence, self._lookup),
            )
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (at operator shutdown)."""
        if self._session is not None:
            await self._session.close()
