"""The Kubernetes API over the standard library's HTTP client, for what kopf does not do.

Leader election's Lease calls, reading the operator's own CRD, and the chart's CRD upgrade
hook. Not the ``kubernetes`` client library: importing it costs the process about 20 MiB. The
credentials are kopf's, found the way the operator logs kopf in (``handlers/lifecycle.py``: the
ServiceAccount in a pod, else ``KUBECONFIG``), so every caller acts as the operator's one user.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import logging
import ssl
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import kopf

from eks_oidc_operator import __version__

log = logging.getLogger(__name__)

USER_AGENT: Final = f"eks-oidc-operator/{__version__}"
REFRESH_SECONDS: Final = 60.0
"""How long one login serves. A projected ServiceAccount token is rotated in its file, so it is
read again (as the ``kubernetes`` client does, every minute)."""

Body = dict[str, Any]
"""An object as the API's JSON."""


class ApiError(Exception):
    """An API call that failed: the HTTP ``status`` (``None``: no answer) and its reason."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason if status is None else f"{status} {reason}")
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Endpoint:
    """One login, ready for :mod:`http.client`: the server, its TLS, the auth headers."""

    server: urllib.parse.SplitResult
    context: ssl.SSLContext | None
    """``None`` for an ``http://`` server."""
    headers: Mapping[str, str]
    proxy: urllib.parse.SplitResult | None = None
    """An ``http://`` proxy the kubeconfig names (``proxy-url``), tunnelled through."""


def endpoint(info: kopf.ConnectionInfo) -> Endpoint:
    """What kopf's login found, as an :class:`Endpoint`."""
    server = _url(info.server, ("https", "http"), "API server")
    proxy = _url(info.proxy_url, ("http",), "proxy") if info.proxy_url else None
    context = ssl_context(info) if server.scheme == "https" else None
    return Endpoint(server, context, auth_headers(info), proxy)


def _url(url: str, schemes: tuple[str, ...], what: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    try:
        _ = parts.port  # parsed lazily: a bad port would fail only at the first request
    except ValueError as error:
        raise ApiError(None, f"the {what} URL {url!r}: {error}") from error
    if parts.scheme not in schemes or not parts.hostname:
        raise ApiError(None, f"the {what} URL {url!r} needs a host and {' or '.join(schemes)}")
    return parts


def auth_headers(info: kopf.ConnectionInfo) -> dict[str, str]:
    """The ``Authorization`` header for these credentials, as kopf sends it (none: empty)."""
    if info.username and info.password:
        basic = base64.b64encode(f"{info.username}:{info.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {basic}"}
    if info.token:
        return {"Authorization": f"{info.scheme or 'Bearer'} {info.token}"}
    if info.scheme:
        return {"Authorization": info.scheme}
    return {}


def ssl_context(info: kopf.ConnectionInfo) -> ssl.SSLContext:
    """TLS to the API server: its CA and the client certificate and key, each from a path or
    from data (PEM, or base64 of it as in a kubeconfig); no verification if ``insecure``."""
    # Only the CA the credentials name, when they name one (the system's trust store otherwise).
    context = ssl.create_default_context(cafile=info.ca_path or None, cadata=_cadata(info))
    if info.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    _load_client_certificate(context, info)
    return context


def _cadata(info: kopf.ConnectionInfo) -> str | bytes | None:
    """The CA the credentials carry as data, as ``cadata`` takes it: PEM as text, DER as
    bytes (``None``: they carry none)."""
    if not info.ca_data:
        return None
    ca = _decoded(info.ca_data)
    return ca.decode("ascii") if _is_pem(ca) else ca


def _load_client_certificate(context: ssl.SSLContext, info: kopf.ConnectionInfo) -> None:
    """The client certificate and key into ``context``, when the credentials have one."""
    with contextlib.ExitStack() as files:
        cert = info.certificate_path or _data_file(files, info.certificate_data)
        key = info.private_key_path or _data_file(files, info.private_key_data)
        if cert:
            context.load_cert_chain(cert, key or None)


def _data_file(files: contextlib.ExitStack, data: str | bytes | None) -> str | None:
    """``data`` in a private file that lives as long as ``files`` (``None``: no data)."""
    return files.enter_context(_private_file(data)) if data else None


def _is_pem(data: bytes) -> bool:
    return data.lstrip().startswith(b"-----BEGIN ")


def _decoded(data: str | bytes) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return raw if _is_pem(raw) else base64.b64decode(raw)


@contextlib.contextmanager
def _private_file(data: str | bytes) -> Iterator[str]:
    """``data`` decoded, in a file for as long as the block runs: ``load_cert_chain`` reads only
    files. The file is its owner's alone (mode 0600, as :mod:`tempfile` creates them): it may
    hold a private key."""
    with tempfile.NamedTemporaryFile(prefix="eks-oidc-api-", suffix=".pem") as file:
        file.write(_decoded(data))
        file.flush()
        yield file.name


def login() -> Endpoint:
    """Log in as the operator does: the ServiceAccount in a pod, else ``KUBECONFIG``."""
    settings = kopf.OperatorSettings()
    info = kopf.login_with_service_account(settings=settings, logger=log)
    if info is None:
        info = kopf.login_with_kubeconfig(settings=settings, logger=log)
    if info is None:
        raise ApiError(None, "no credentials: neither a ServiceAccount token nor KUBECONFIG")
    return endpoint(info)


def connect(timeout: float = 10.0, *, agent: str = USER_AGENT) -> KubeApi:
    """The API as this process's user. Logs in now, so that a process without credentials
    fails at its start rather than at its first call."""
    return KubeApi(login, timeout=timeout, first=login(), agent=agent)


class KubeApi:
    """Calls to the API server; safe to share between threads.

    Each call opens a connection of its own and closes it: a renewal every few seconds does not
    need a pool, and no pooled connection that a load balancer dropped can fail the next call.
    The timeout bounds the connect and each read. The login is renewed after
    :data:`REFRESH_SECONDS`, and after a 401.
    """

    def __init__(
        self,
        login: Callable[[], Endpoint],
        *,
        timeout: float = 10.0,
        refresh: float = REFRESH_SECONDS,
        first: Endpoint | None = None,
        agent: str = USER_AGENT,
    ) -> None:
        self._login, self._timeout, self._refresh = login, timeout, refresh
        self._agent = agent
        self._lock = threading.Lock()
        self._endpoint, self._since = first, time.monotonic()

    def request(
        self,
        method: str,
        path: str,
        body: Body | None = None,
        *,
        timeout: float | None = None,
        content_type: str = "application/json",
    ) -> Body:
        """One call: ``body`` sent as JSON (under ``content_type``, e.g. a server-side apply's
        ``application/apply-patch+yaml``, of which JSON is a subset); the answer's JSON object.
        Any status outside 2xx raises :class:`ApiError` with it."""
        at = self._current()
        headers = {"Accept": "application/json", "User-Agent": self._agent, **at.headers}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        connection = _connection(at, self._timeout if timeout is None else timeout)
        try:
            connection.request(method, at.server.path.rstrip("/") + path, data, headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:  # TLS and timeouts are OSErrors
            raise ApiError(None, str(error) or type(error).__name__) from error
        finally:
            connection.close()
        if response.status == http.HTTPStatus.UNAUTHORIZED:
            self._forget(at)  # a token rotated or revoked: log in again for the next call
        if not 200 <= response.status < 300:
            raise ApiError(response.status, response.reason)
        try:
            found = json.loads(payload)
        except ValueError as error:
            raise ApiError(response.status, f"the answer is not JSON: {error}") from error
        if not isinstance(found, dict):
            raise ApiError(response.status, "the answer is not a JSON object")
        return found

    def _current(self) -> Endpoint:
        with self._lock:
            if self._endpoint is None or time.monotonic() - self._since >= self._refresh:
                try:
                    self._endpoint = self._login()
                except ApiError:
                    raise
                except Exception as error:
                    raise ApiError(None, f"logging in failed: {error}") from error
                self._since = time.monotonic()
            return self._endpoint

    def _forget(self, endpoint: Endpoint) -> None:
        with self._lock:
            if self._endpoint is endpoint:
                self._endpoint = None


def _connection(at: Endpoint, timeout: float) -> http.client.HTTPConnection:
    server = at.server
    port = server.port or (443 if server.scheme == "https" else 80)
    via = at.proxy or server
    host, via_port = via.hostname or "", via.port or (80 if at.proxy else port)
    connection = (
        http.client.HTTPSConnection(host, via_port, timeout=timeout, context=at.context)
        if server.scheme == "https"
        else http.client.HTTPConnection(host, via_port, timeout=timeout)
    )
    if at.proxy is not None:
        connection.set_tunnel(server.hostname or "", port, _proxy_headers(at.proxy))
    return connection


def _proxy_headers(proxy: urllib.parse.SplitResult) -> dict[str, str]:
    if proxy.username is None:
        return {}
    user = urllib.parse.unquote(proxy.username)
    password = urllib.parse.unquote(proxy.password or "")
    basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Proxy-Authorization": f"Basic {basic}"}
