"""Fetch an associated issuer's discovery document and key set, as EKS does after an Associate.

Only used with ``fetchIssuers`` on (``--fetch-issuers``). The fetch is asynchronous (aiohttp,
the simulator's own HTTP stack) so a slow or silent issuer never stalls the event loop that
serves every other call; it is bounded by :data:`FETCH_TIMEOUT_SECONDS` as a whole.

The answer is a *cause* or ``None``: what the state machine needs to decide how the update
ends (``state.py`` owns the EKS error built from it). An issuer is usable when

* ``GET <issuerUrl>/.well-known/openid-configuration`` answers 200 with a JSON object,
* whose ``issuer`` equals ``issuerUrl`` character for character, and
* whose ``jwks_uri`` answers 200 with a ``keys`` list holding at least one key,

all over HTTPS verified against the system's CAs plus the configured bundle, without
following redirects (the document is expected where the issuer says it is).
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from pathlib import Path
from typing import Any

import aiohttp

DISCOVERY_PATH = "/.well-known/openid-configuration"

FETCH_TIMEOUT_SECONDS = 5.0
"""Bound of one check, both requests together. Associate answers only after the check (so
the outcome is settled before the client sees the update), hence short; a reachable issuer
answers in milliseconds."""


class _UnusableError(Exception):
    """The issuer answered, but not as EKS needs; the message is the cause."""


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's trust store plus ``ca_file`` (PEM); ``ValueError`` when it cannot be read."""
    if ca_file is None:
        return _context(None, 0)
    try:
        stamp = Path(ca_file).stat().st_mtime_ns
        return _context(ca_file, stamp)
    except (OSError, ssl.SSLError) as error:
        msg = f"issuer CA file {ca_file}: {error}"
        raise ValueError(msg) from error


@functools.lru_cache(maxsize=8)
def _context(ca_file: str | None, _stamp: int) -> ssl.SSLContext:
    # Loading the system's CAs costs more than a loopback fetch, so contexts are reused; the
    # file's mtime is part of the key, so a rewritten bundle is read again.
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


async def fetch_problem(issuer_url: str, *, ca_file: str | None) -> str | None:
    """Why EKS could not use ``issuer_url``, or ``None`` when it answers as EKS needs."""
    try:
        context = ssl_context(ca_file)
    except ValueError as error:
        # The simulator's own setting is broken: say so in the update rather than crash.
        return str(error)
    try:
        async with asyncio.timeout(FETCH_TIMEOUT_SECONDS):
            await _inspect(issuer_url, context)
    except _UnusableError as wrong:
        return str(wrong)
    except TimeoutError:
        return f"no answer within {FETCH_TIMEOUT_SECONDS:g} s"
    except (aiohttp.ClientError, OSError) as error:
        return _cause(error)
    return None


def _cause(error: Exception) -> str:
    """A short cause for a transport error: it ends up inside EKS's one-line message."""
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"TLS: {_tls_reason(error.certificate_error)}"
    if isinstance(error, aiohttp.ClientSSLError):
        return f"TLS: {_tls_reason(error.os_error)}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect to {error.host}:{error.port}: {_os_reason(error.os_error)}"
    return str(error) or type(error).__name__


def _tls_reason(error: Exception) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verify failed: {error.verify_message}"
    return str(error) or type(error).__name__


def _os_reason(error: OSError) -> str:
    # asyncio's "Connect call failed (host, port)" repeats the address; the errno says it.
    if isinstance(error.errno, int) and error.errno > 0:
        return os.strerror(error.errno)
    return error.strerror or str(error) or type(error).__name__


async def _inspect(issuer_url: str, context: ssl.SSLContext) -> None:
    discovery = issuer_url.rstrip("/") + DISCOVERY_PATH
    connector = aiohttp.TCPConnector(ssl=context)
    async with aiohttp.ClientSession(connector=connector) as session:
        document = await _get_json(session, discovery, "discovery document")
        named = document.get("issuer")
        if named != issuer_url:
            msg = f"discovery document names issuer {named!r}"
            raise _UnusableError(msg)
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            msg = "discovery document has no jwks_uri"
            raise _UnusableError(msg)
        keys = (await _get_json(session, jwks_uri, "key set")).get("keys")
        if not isinstance(keys, list) or not keys:
            msg = f"key set {jwks_uri} has no keys"
            raise _UnusableError(msg)


async def _get_json(session: aiohttp.ClientSession, url: str, what: str) -> dict[str, Any]:
    async with session.get(url, allow_redirects=False) as response:
        if response.status != 200:
            msg = f"{what}: HTTP {response.status}"
            raise _UnusableError(msg)
        try:
            body = await response.json(content_type=None)
        except ValueError as error:
            msg = f"{what}: not JSON"
            raise _UnusableError(msg) from error
    if not isinstance(body, dict):
        msg = f"{what}: not a JSON object"
        raise _UnusableError(msg)
    return body
