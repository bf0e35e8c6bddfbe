"""A real OIDC issuer over HTTPS on loopback, for the issuer pre-flight's tests.

A CA of its own (handed to the operator as its CA bundle) signs the server's certificate for
``127.0.0.1``. One server answers several issuers, one per path, each a variant a test wants:

- ``/good``: discovery document naming itself, and a key set with one key;
- ``/mismatch``: the document names another issuer;
- ``/nokeys``: the key set is empty;
- ``/broken``: HTTP 500;
- ``/redirect``: a redirect to ``/good``; ``/slow``: no answer for ten seconds; ``/late<n>``: a
  good issuer whose document comes after n tenths of a second (``/late<n>-<any>``: as many
  distinct ones as wanted);
- ``/plainjwks``, ``/privatejwks``, ``/metadata``: a ``jwks_uri`` over plain HTTP, on a private
  address, and at the instance metadata service (the fence must refuse each unfetched).

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
    hostile one: ``/huge``, ``/endless``, ``/gzip``, ``/redirect``, ``/slow``, ``/plainjwks``,
    ``/privatejwks``, ``/metadata``, ``/hugejwks``, ``/nested``, ``/badjwks``."""
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


SLOW_SECONDS = 10.0
"""How long ``/slow`` keeps a request waiting: past any pre-flight timeout the tests use."""

_JWKS = {
    "plainjwks": "http://127.0.0.1:{port}/good/keys",
    "privatejwks": "https://10.0.0.1/keys",
    "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "badjwks": "https://[x]/keys",
}

HOSTILE_BYTES = 8 * 2**20
"""What the hostile variants send (or announce): far past what a pre-flight should read."""


async def _hostile(request: web.Request, variant: str, size: int) -> web.StreamResponse | None:
    """The hostile answers: ``huge`` (announces its size), ``endless`` (streams with no size),
    ``gzip`` (a compressed body, though the client asked for none), ``nested``, ``redirect``,
    ``slow*``; ``late<n>`` only delays. None for the others."""
    if variant.startswith("late"):  # /late15, /late15-a: good issuers that answer after 1.5 s
        await asyncio.sleep(int(variant.removeprefix("late").split("-")[0]) / 10)
        return None
    if variant == "redirect":
        raise web.HTTPFound(location="../good/.well-known/openid-configuration")
    if variant.startswith("slow"):  # /slow, /slow1, ...: as many slow issuers as wanted
        for _ in range(int(SLOW_SECONDS * 10)):  # until the client gives up, or the time
            if request.transport is None or request.transport.is_closing():
                break
            await asyncio.sleep(0.1)
        return web.Response(status=504)
    if variant in ("huge", "endless"):
        return await _stream(request, size, announce=variant == "huge")
    if variant == "gzip":  # a compressed body, inflating to ``size``
        body, encoding = gzip.compress(b'{"issuer": "' + b" " * size + b'"}'), "gzip"
    elif variant == "nested":  # deeper than any JSON parser's recursion, within 256 KiB
        body, encoding = b"[" * 200_000, "identity"
    else:
        return None
    return web.Response(
        body=body, content_type="application/json", headers={"Content-Encoding": encoding}
    )


async def _stream(request: web.Request, size: int, *, announce: bool) -> web.StreamResponse:
    """``size`` bytes of JSON whitespace, with their length announced or chunked, written until
    the client stops reading (a body written whole would take its full size in memory here,
    and asyncio complains of every write after the client has gone)."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    if announce:
        response.content_length = size
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        for _ in range(size // 2**16):
            if request.transport is None or request.transport.is_closing():
                break
            await response.write(b" " * 2**16)
    return response


def _app(base: str, size: int) -> web.Application:
    async def discovery(request: web.Request) -> web.StreamResponse:
        variant = request.match_info["variant"]
        hostile = await _hostile(request, variant, size)
        if hostile is not None:
            return hostile
        if variant == "broken":
            return web.Response(status=500, text="down")
        named = f"{base}/other" if variant == "mismatch" else f"{base}/{variant}"
        port = base.rsplit(":", 1)[1]
        jwks = _JWKS.get(variant, f"{base}/{variant}/keys").format(port=port)
        return web.json_response({"issuer": named, "jwks_uri": jwks})

    async def keys(request: web.Request) -> web.StreamResponse:
        if request.match_info["variant"] == "hugejwks":  # a good document, a huge key set
            return await _stream(request, size, announce=False)
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
def local_issuers(folder: Path, hostile_bytes: int = HOSTILE_BYTES) -> Iterator[LocalIssuers]:
    """Serve the test issuers from a thread of their own until the block ends; the hostile
    ones send (or announce) ``hostile_bytes``."""
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
            runner = web.AppRunner(_app(app_base, hostile_bytes))
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
