"""A real OIDC issuer over HTTPS on loopback, for the issuer pre-flight's tests.

A CA of its own (handed to the operator as its CA bundle) signs the server's certificate for
``127.0.0.1``. One server answers several issuers, one per path, each a variant a test wants:

- ``/good``: discovery document naming itself, and a key set with one key;
- ``/mismatch``: the document names another issuer;
- ``/nokeys``: the key set is empty;
- ``/broken``: HTTP 500.

A second server with a certificate of *another* CA stands for an issuer whose certificate does
not verify, and a port with nothing listening for one that cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from eks_oidc_testing.pki import LOOPBACK, new_ca, serving_cert, write_cert, write_key
from eks_oidc_testing.ports import free_port

_KEY = {"kty": "EC", "crv": "P-256", "kid": "test", "x": "AAAA", "y": "AAAA", "use": "sig"}


@dataclass(frozen=True)
class LocalIssuers:
    """Where the test issuers are."""

    base: str
    """``https://127.0.0.1:<port>``: add ``/good``, ``/mismatch``, ``/nokeys``, ``/broken``, or a
    hostile one: ``/huge``, ``/endless``, ``/gzip``."""
    untrusted: str
    """An issuer whose certificate the CA bundle does not vouch for."""
    dead: str
    """An issuer on a port nothing listens on."""
    ca_file: Path
    """The CA bundle (PEM) that verifies :attr:`base`."""

    def url(self, variant: str) -> str:
        """The issuer URL of one variant."""
        return f"{self.base}/{variant}"


def _pair(folder: Path, label: str) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 it signs: (ca.pem, cert.pem, key.pem)."""
    ca = new_ca(f"{label} test CA", days=1)
    cert, key = serving_cert(ca, "127.0.0.1", LOOPBACK, days=1)
    paths = tuple(folder / f"{label}-{part}.pem" for part in ("ca", "cert", "key"))
    write_cert(paths[0], ca[0])
    write_cert(paths[1], cert)
    write_key(paths[2], key)
    return paths[0], paths[1], paths[2]


HOSTILE_BYTES = 8 * 2**20
"""What the hostile variants send (or announce): far past what a pre-flight should read."""


async def _hostile(request: web.Request, variant: str) -> web.StreamResponse | None:
    """The hostile answers: ``huge`` (announces its size), ``endless`` (streams with no size),
    ``gzip`` (a compressed body, though the client asked for none). None for the others."""
    if variant == "huge":
        return web.Response(body=b" " * HOSTILE_BYTES, content_type="application/json")
    if variant == "gzip":
        body = gzip.compress(b'{"issuer": "' + b" " * HOSTILE_BYTES + b'"}')
        return web.Response(
            body=body, content_type="application/json", headers={"Content-Encoding": "gzip"}
        )
    if variant == "endless":
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            for _ in range(HOSTILE_BYTES // 2**16):
                await response.write(b" " * 2**16)
        return response
    return None


def _app(base: str) -> web.Application:
    async def discovery(request: web.Request) -> web.StreamResponse:
        variant = request.match_info["variant"]
        hostile = await _hostile(request, variant)
        if hostile is not None:
            return hostile
        if variant == "broken":
            return web.Response(status=500, text="down")
        named = f"{base}/other" if variant == "mismatch" else f"{base}/{variant}"
        return web.json_response({"issuer": named, "jwks_uri": f"{base}/{variant}/keys"})

    async def keys(request: web.Request) -> web.Response:
        empty = request.match_info["variant"] == "nokeys"
        return web.json_response({"keys": [] if empty else [_KEY]})

    app = web.Application()
    app.router.add_get("/{variant}/.well-known/openid-configuration", discovery)
    app.router.add_get("/{variant}/keys", keys)
    return app


def _context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@contextmanager
def local_issuers(folder: Path) -> Iterator[LocalIssuers]:
    """Serve the test issuers from a thread of their own until the block ends."""
    ca_file, cert, key = _pair(folder, "trusted")
    _, other_cert, other_key = _pair(folder, "untrusted")
    port, other_port, dead_port = free_port(), free_port(), free_port()
    base, other = f"https://127.0.0.1:{port}", f"https://127.0.0.1:{other_port}"
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []

    async def start() -> None:
        for app_base, app_port, context in (
            (base, port, _context(cert, key)),
            (other, other_port, _context(other_cert, other_key)),
        ):
            runner = web.AppRunner(_app(app_base))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", app_port, ssl_context=context).start()
            runners.append(runner)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield LocalIssuers(base, f"{other}/good", f"https://127.0.0.1:{dead_port}/good", ca_file)
    finally:

        async def stop() -> None:
            for runner in runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
