"""Fetch an issuer's discovery document and key set, as EKS will, and say what was found.

I/O only: every answer becomes an :class:`~eks_oidc_operator.reconcile.issuer.IssuerCheck`,
whose meaning is decided by pure code. aiohttp (kopf's own HTTP client) does the HTTP; TLS is
verified against the system's CAs plus an optional bundle for private CAs.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from eks_oidc_operator.reconcile import issuer
from eks_oidc_operator.reconcile.issuer import IssuerCheck

DISCOVERY_PATH = "/.well-known/openid-configuration"


class _FoundError(Exception):
    """The issuer answered, wrongly: ``problem`` is the reason, the message the detail."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's trust store, plus ``ca_file`` (PEM) when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


async def check_issuer(
    session: aiohttp.ClientSession, url: str, limit: aiohttp.ClientTimeout
) -> IssuerCheck:
    """One pre-flight of ``url``: discovery document, ``issuer`` equality, and keys."""
    discovery = url.rstrip("/") + DISCOVERY_PATH
    try:
        await _resolve(url, limit)
        found = await _inspect(session, url, discovery, limit)
    except _FoundError as wrong:
        found = IssuerCheck(url, wrong.problem, str(wrong))
    except aiohttp.ClientSSLError as error:
        # The certificate does not verify (or TLS fails): EKS would refuse it too.
        found = IssuerCheck(url, issuer.UNREACHABLE, f"TLS: {error}")
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        detail = str(error) or type(error).__name__
        found = IssuerCheck(url, issuer.UNREACHABLE, f"{discovery}: {detail}", network=True)
    return found


LOOKUP_THREADS = 4
"""Threads for the issuers' DNS lookups and for parsing what they answer, apart from the pool
the blocking EKS calls run in."""

_lookups = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="issuer-dns")


async def _resolve(url: str, limit: aiohttp.ClientTimeout) -> None:
    """Look the issuer's host up before any HTTP: raises ``OSError`` when it has no address.

    aiohttp looks a host up only once a connection slot is free, and builds the request (about
    10 KiB with its timers and futures) before that; a burst of new objects on unresolvable
    issuers then held a thousand such requests at once, waiting their turn for a lookup of a
    millisecond. Here a waiting lookup is a queued function call. Its threads are its own, as
    the loop's default pool runs the blocking EKS calls, and lookups queued behind those took
    seconds in a burst. aiohttp still looks the host up again (once, into its DNS cache).
    """
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return  # not a port: the GET says what is wrong with the URL
    if not parts.hostname:
        return
    lookup = asyncio.get_running_loop().run_in_executor(
        _lookups, socket.getaddrinfo, parts.hostname, port, 0, socket.SOCK_STREAM
    )
    try:
        async with asyncio.timeout(limit.total):
            await lookup
    except socket.gaierror as error:
        raise OSError(f"cannot look up {parts.hostname}: {error.strerror}") from error


async def _inspect(
    session: aiohttp.ClientSession, url: str, discovery: str, limit: aiohttp.ClientTimeout
) -> IssuerCheck:
    document = await _get_json(session, discovery, limit)
    named = document.get("issuer")
    if named != url:
        raise _FoundError(
            issuer.MISMATCH,
            f"{discovery} names issuer {named!r}, not spec.oidc.issuerUrl {url!r} "
            "(EKS needs them equal, character for character)",
        )
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise _FoundError(issuer.NO_KEYS, f"{discovery} has no jwks_uri")
    try:
        keys = (await _get_json(session, jwks_uri, limit)).get("keys")
    except aiohttp.InvalidURL as error:  # a relative or non-HTTP jwks_uri: EKS cannot use it
        raise _FoundError(issuer.NO_KEYS, f"jwks_uri {jwks_uri!r} is not a URL") from error
    if not isinstance(keys, list) or not keys:
        raise _FoundError(issuer.NO_KEYS, f"{jwks_uri} lists no keys")
    return IssuerCheck(url, detail=f"{discovery} and {jwks_uri} answer as EKS needs")


MAX_DOCUMENT_BYTES = 256 * 1024
"""The most the pre-flight reads of a discovery document or a key set. Real ones weigh a few
KiB (a key set of many keys, tens). Without a bound, one hostile issuer's 300 MB answer took the
operator past its memory limit, for every tenant at once."""
READ_CHUNK_BYTES = 16 * 1024


async def _get_json(
    session: aiohttp.ClientSession, url: str, limit: aiohttp.ClientTimeout
) -> dict[str, Any]:
    # No redirects: EKS fetches the document where the issuer says it is. No compression: a
    # small gzip body can inflate a thousandfold, so the session never inflates and a
    # compressed answer (to a request for none) is refused.
    async with session.get(
        url, timeout=limit, allow_redirects=False, headers={"Accept-Encoding": "identity"}
    ) as response:
        if response.status != 200:
            raise _FoundError(issuer.UNREACHABLE, f"GET {url}: HTTP {response.status}")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise _FoundError(
                issuer.UNREACHABLE, f"GET {url}: a {encoding}-encoded answer to a request for none"
            )
        raw = await _read_bounded(response, url)
    # Parsed on the lookups' threads: even a bounded document is no work for the event loop.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_lookups, _parse_object, raw, url)


async def _read_bounded(response: aiohttp.ClientResponse, url: str) -> bytes:
    """The body, read in chunks and never past :data:`MAX_DOCUMENT_BYTES`."""
    too_big = f"GET {url}: more than the {MAX_DOCUMENT_BYTES} bytes the pre-flight reads"
    if response.content_length is not None and response.content_length > MAX_DOCUMENT_BYTES:
        raise _FoundError(issuer.UNREACHABLE, too_big)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise _FoundError(issuer.UNREACHABLE, too_big)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_object(raw: bytes, url: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise _FoundError(issuer.UNREACHABLE, f"GET {url}: not JSON ({error})") from error
    if not isinstance(body, dict):
        raise _FoundError(issuer.UNREACHABLE, f"GET {url}: not a JSON object")
    return body


class IssuerChecker:
    """Pre-flights with a short cache, so many objects on one issuer fetch it once.

    Concurrent checks of one URL share one fetch; a result is reused for ``ttl`` seconds, and
    forgotten soon after (a fleet of a thousand issuers, each checked once when its object is
    created, would otherwise keep a thousand results for the operator's life).
    """

    def __init__(self, *, ca_file: str | None, timeout: float, ttl: float) -> None:
        self._ca_file = ca_file
        self._limit = aiohttp.ClientTimeout(total=timeout)
        self._ttl = ttl
        self._session: aiohttp.ClientSession | None = None
        self._results: dict[str, tuple[float, asyncio.Task[IssuerCheck]]] = {}
        self._swept = 0.0

    async def check(self, url: str) -> IssuerCheck:
        """The pre-flight of ``url``, fetched or from the cache."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        cached = self._results.get(url)
        if cached is None or now - cached[0] > self._ttl:
            self._forget_expired(now)
            # In a context of its own: a task keeps the context it was made in for as long as
            # it is kept (here, the cache's lifetime), and the caller's is a kopf handler's,
            # whose cause holds that object's body, patch and loggers (about 10 KiB an object
            # at fleet scale). The fetch needs none of it.
            task = loop.create_task(
                check_issuer(self._client(), url, self._limit), context=contextvars.Context()
            )
            self._results[url] = (now, task)
            cached = self._results[url]
        return await asyncio.shield(cached[1])

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
            connector = aiohttp.TCPConnector(ssl=ssl_context(self._ca_file), limit=16)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (at operator shutdown)."""
        if self._session is not None:
            await self._session.close()
