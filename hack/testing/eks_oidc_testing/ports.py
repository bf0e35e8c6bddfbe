"""Loopback ports for the local servers, and starting a server again when its port was taken.

A port picked free can be bound by another process before the server that was given it binds
it (test workers side by side start servers and open connections all the time), so every
start that picks ports goes through :func:`start_retrying`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

STARTS = 3
"""Starts in all, each on fresh ports, when the one before found a port taken."""


def free_port() -> int:
    """A port the kernel considers free right now (the bind race is retried by the caller)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_taken(error: BaseException) -> bool:
    """Whether ``error`` (its message carries the server's last log lines) says a port was
    taken: Python's servers, asyncio's and Go's each word it so."""
    return "address already in use" in str(error).lower()


def start_retrying(start: Callable[[], T], fresh_ports: Callable[[], None] = lambda: None) -> T:
    """``start()``, again on fresh ports (``fresh_ports`` picks them, unless ``start`` does)
    while a port it was given was taken, up to :data:`STARTS` times in all."""
    for attempt in range(1, STARTS + 1):
        try:
            return start()
        except Exception as error:
            if attempt == STARTS or not port_taken(error):
                raise
            fresh_ports()
    raise AssertionError("unreachable: the last start returns or raises")
