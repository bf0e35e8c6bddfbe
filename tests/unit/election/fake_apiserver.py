"""A tiny API server on loopback that knows Leases only, for the Lease client and the elector.

It keeps Leases the way the real one does where the elector depends on it: a create of an
existing Lease and a replace carrying a stale ``resourceVersion`` are 409s. Every request is
recorded, and a status can be scripted for the next request of a method. Optionally TLS (with
client certificates required), and a CONNECT proxy in front.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from eks_oidc_testing import pki

LEASES = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases(?:/([^/]+))?$")


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    client: str | None
    """The common name of the client certificate (TLS with client certificates only)."""


@dataclass
class FakeLeases:
    """The server's state: its Leases by (namespace, name), the requests, the scripted answers."""

    url: str = ""
    leases: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    scripted: dict[str, list[int]] = field(default_factory=dict)
    versions: int = 0

    def answer(self, method: str, status: int) -> None:
        """Answer the next ``method`` request with ``status`` (and leave the Leases alone)."""
        self.scripted.setdefault(method, []).append(status)

    def put(self, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Store a Lease as another writer would (a new resourceVersion)."""
        self.versions += 1
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "resourceVersion": str(self.versions),
            },
            "spec": spec,
        }
        self.leases[namespace, name] = lease
        return lease

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        """The status and body of the answer to one request."""
        if self.scripted.get(method):
            return self._status(self.scripted[method].pop(0))
        found = LEASES.match(path)
        namespace, name = found.groups() if found else ("", None)
        if found and method == "POST" and name is None and body is not None:
            return self._create(namespace, body)
        stored = self.leases.get((namespace, name)) if found and name else None
        if stored is not None and method == "GET":
            return 200, stored
        if stored is not None and method == "PUT" and body is not None:
            return self._replace(stored, body)
        return self._status(404 if stored is None else 405)

    def _create(self, namespace: str, body: dict[str, Any]) -> tuple[int, Any]:
        name = body["metadata"]["name"]
        if (namespace, name) in self.leases:
            return self._status(409)
        return 201, self.put(namespace, name, body.get("spec", {}))

    def _replace(self, stored: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        metadata = stored["metadata"]
        if body["metadata"].get("resourceVersion") != metadata["resourceVersion"]:
            return self._status(409)
        return 200, self.put(metadata["namespace"], metadata["name"], body.get("spec", {}))

    @staticmethod
    def _status(code: int) -> tuple[int, Any]:
        reason = HTTPStatus(code).phrase
        return code, {"kind": "Status", "status": "Failure", "reason": reason, "code": code}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        fake = self.server.fake
        headers = dict(self.headers.items())
        fake.requests.append(Request(self.command, self.path, headers, body, self._client()))
        status, answer = fake.handle(self.command, self.path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _client(self) -> str | None:
        if not isinstance(self.connection, ssl.SSLSocket):
            return None
        peer: Any = self.connection.getpeercert() or {}
        subject = peer.get("subject", ())
        names = [value for rdn in subject for key, value in rdn if key == "commonName"]
        return str(names[0]) if names else None

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the requests are recorded instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLeases


@contextmanager
def serve(tls: ssl.SSLContext | None = None) -> Iterator[FakeLeases]:
    """Serve a :class:`FakeLeases` on 127.0.0.1 (over TLS with ``tls``) until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.fake = FakeLeases(f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Pki:
    """A CA, the server's certificate for 127.0.0.1 and a client certificate, all PEM files."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def server_context(self) -> ssl.SSLContext:
        """TLS as an API server: its certificate, and a client certificate from the CA required."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=self.ca)
        context.load_cert_chain(self.server_cert, self.server_key)
        context.verify_mode = ssl.CERT_REQUIRED
        return context


def make_pki(folder: Path, client: str = "lease-client") -> Pki:
    """A fresh :class:`Pki` in ``folder``; the client certificate's common name is ``client``."""
    ca = pki.new_ca("lease test CA", days=1)
    server, server_key = pki.serving_cert(ca, "127.0.0.1", pki.LOOPBACK, days=1)
    now = dt.datetime.now(dt.UTC)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, client)]))
        .issuer_name(ca[0].subject)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca[1], hashes.SHA256())
    )
    made = Pki(
        *(folder / f"{part}.pem" for part in ("ca", "server", "server-key", "client", "client-key"))
    )
    pki.write_cert(made.ca, ca[0])
    pki.write_cert(made.server_cert, server)
    pki.write_key(made.server_key, server_key)
    pki.write_cert(made.client_cert, client_cert)
    pki.write_key(made.client_key, client_key)
    return made


@dataclass
class Tunnels:
    """What a CONNECT proxy was asked: each request's first line and headers."""

    url: str = ""
    asked: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class _Tunnel(socketserver.StreamRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        first = self.rfile.readline().decode().strip()
        headers: dict[str, str] = {}
        while line := self.rfile.readline().decode().strip():
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
        self.server.tunnels.asked.append((first, headers))
        host, _, port = first.split()[1].rpartition(":")
        with socket.create_connection((host, int(port)), timeout=5) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            _pipe(self.connection, upstream)


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Relay bytes both ways until either side closes."""
    while True:
        ready, _, _ = select.select([one, other], [], [], 5)
        if not ready:
            return
        for source in ready:
            data = source.recv(65536)
            if not data:
                return
            (other if source is one else one).sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    tunnels: Tunnels


@contextmanager
def proxy() -> Iterator[Tunnels]:
    """An HTTP CONNECT proxy on 127.0.0.1 until the block ends."""
    server = _ProxyServer(("127.0.0.1", 0), _Tunnel)
    server.tunnels = Tunnels(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.tunnels
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
