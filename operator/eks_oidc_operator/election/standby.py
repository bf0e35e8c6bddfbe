"""The liveness endpoint of a standby replica.

kopf serves ``/healthz`` only once it runs, and only the leader runs kopf. A standby is alive
too, and must say so, or the kubelet would restart it for failing its liveness probe. This tiny
server answers on the same port until the replica leads, then gives the port to kopf.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path.split("?")[0] == "/healthz"
        body = b'{"standby": true}' if found else b"not found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Probes every few seconds are not news."""


@contextmanager
def standby_health(port: int) -> Iterator[None]:
    """Serve ``/healthz`` on ``port`` (0: nothing) while the block runs."""
    if not port:
        yield
        return
    server = ThreadingHTTPServer(("0.0.0.0", port), _Health)
    thread = threading.Thread(target=server.serve_forever, name="standby-health", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
