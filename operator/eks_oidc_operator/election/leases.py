"""The ``coordination.k8s.io/v1`` Lease API: just what the elector needs (read, create and
replace one Lease), synchronous, for its threads, over :mod:`eks_oidc_operator.kubeapi`.

Bodies are the API's JSON as plain dicts; times in them are MicroTime strings
(:func:`parse_time`, :func:`format_time`).
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any, Final

from eks_oidc_operator import kubeapi
from eks_oidc_operator.kubeapi import (
    REFRESH_SECONDS,
    Endpoint,
    KubeApi,
    auth_headers,
    endpoint,
    login,
    ssl_context,
)
from eks_oidc_operator.kubeapi import ApiError as LeaseApiError

__all__ = [
    "REFRESH_SECONDS",
    "Endpoint",
    "LeaseApi",
    "LeaseApiError",
    "auth_headers",
    "connect",
    "endpoint",
    "format_time",
    "login",
    "parse_time",
    "ssl_context",
]

LEASES: Final = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
USER_AGENT: Final = f"{kubeapi.USER_AGENT} (leader election)"

Lease = dict[str, Any]
"""A Lease as the API's JSON."""


def parse_time(value: str | None) -> datetime | None:
    """A MicroTime (RFC 3339, ``2026-12-02T16:00:00.123456Z``) as an aware datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    # RFC 3339 always has an offset; a value without one can only have meant UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """``value`` (aware) as a MicroTime in UTC, the way the API server writes them."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def connect(timeout: float = 10.0) -> LeaseApi:
    """The Lease API as this process's user. Logs in now, so that a replica without credentials
    fails at its start rather than at its first try for the lease."""
    return LeaseApi(login, timeout=timeout, first=login(), agent=USER_AGENT)


class LeaseApi(KubeApi):
    """Read, create and replace Leases (the elector's watchdog bounds each whole call)."""

    def read(self, namespace: str, name: str, *, timeout: float | None = None) -> Lease | None:
        """The Lease ``namespace/name``; ``None`` if there is none."""
        try:
            return self.request("GET", _path(namespace, name), timeout=timeout)
        except LeaseApiError as error:
            if error.status == 404:
                return None
            raise

    def create(self, namespace: str, body: Lease, *, timeout: float | None = None) -> Lease:
        """Create the Lease ``body`` describes; a 409 if it exists already."""
        return self.request("POST", _path(namespace), body, timeout=timeout)

    def replace(
        self, namespace: str, name: str, body: Lease, *, timeout: float | None = None
    ) -> Lease:
        """Write ``body`` over the Lease; a 409 if its ``metadata.resourceVersion`` is not the
        Lease's any more (someone wrote in between)."""
        return self.request("PUT", _path(namespace, name), body, timeout=timeout)


def _path(namespace: str, name: str | None = None) -> str:
    path = LEASES.format(namespace=urllib.parse.quote(namespace, safe=""))
    return path if name is None else f"{path}/{urllib.parse.quote(name, safe='')}"
