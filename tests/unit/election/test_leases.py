"""The Lease client: MicroTimes, credentials into TLS and headers, and the HTTP it speaks, against
a Lease API server on loopback (plain HTTP, TLS with client certificates, behind a proxy)."""

from __future__ import annotations

import base64
import socket
import ssl
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import kopf
import pytest

from eks_oidc_operator.election import leases
from eks_oidc_operator.election.leases import (
    Endpoint,
    LeaseApi,
    LeaseApiError,
    auth_headers,
    connect,
    endpoint,
    format_time,
    parse_time,
    ssl_context,
)
from tests.unit.election.fake_apiserver import FakeLeases, Pki, make_pki, proxy, serve

PATH = "/apis/coordination.k8s.io/v1/namespaces/ns/leases"
SPEC = {"holderIdentity": "a", "leaseDurationSeconds": 15}


@pytest.fixture
def fake() -> Iterator[FakeLeases]:
    with serve() as served:
        yield served


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _api(url: str, **info: Any) -> LeaseApi:
    return LeaseApi(lambda: endpoint(kopf.ConnectionInfo(server=url, **info)), timeout=3)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


# --------------------------------------------------------------------------- MicroTime


def test_a_micro_time_survives_the_round_trip() -> None:
    when = datetime(2026, 12, 2, 16, 0, 0, 123456, tzinfo=UTC)
    assert format_time(when) == "2026-12-02T16:00:00.123456Z"
    assert parse_time(format_time(when)) == when


@pytest.mark.parametrize(
    "written",
    [
        "2026-12-02T16:00:00.000000Z",
        "2026-12-02T16:00:00Z",  # a Time rather than a MicroTime
        "2026-12-02T18:00:00.000000+02:00",
        "2026-12-02T16:00:00.000000",  # no offset: UTC, as the server means it
    ],
)
def test_any_rfc3339_spelling_is_read_as_the_same_aware_instant(written: str) -> None:
    parsed = parse_time(written)
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed == datetime(2026, 12, 2, 16, tzinfo=UTC)


def test_times_are_written_in_utc_whatever_zone_they_were_made_in() -> None:
    local = datetime(2026, 12, 2, 18, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(local) == "2026-12-02T16:00:00.000005Z"


def test_a_missing_time_is_none() -> None:
    assert parse_time(None) is None
    assert parse_time("") is None


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("info", "header"),
    [
        ({"token": "t0k"}, "Bearer t0k"),
        ({"token": "t0k", "scheme": "Digest"}, "Digest t0k"),
        ({"username": "u", "password": "p", "token": "t0k"}, "Basic dTpw"),
        ({}, None),
    ],
    ids=["token", "scheme", "basic-first", "anonymous"],
)
def test_the_authorization_header_is_the_one_kopf_sends(
    info: dict[str, Any], header: str | None
) -> None:
    made = auth_headers(kopf.ConnectionInfo(server="https://k", **info))
    assert made.get("Authorization") == header
    assert set(made) <= {"Authorization"}


def test_ca_data_base64_or_pem_and_a_ca_path_each_trust_only_that_ca(certs: Pki) -> None:
    pem = certs.ca.read_text()
    infos: list[dict[str, Any]] = [{"ca_data": _b64(certs.ca)}, {"ca_data": pem}]
    for info in [*infos, {"ca_path": str(certs.ca)}]:
        context = ssl_context(kopf.ConnectionInfo(server="https://k", **info))
        assert len(context.get_ca_certs()) == 1, info
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname


def test_insecure_verifies_nothing() -> None:
    context = ssl_context(kopf.ConnectionInfo(server="https://k", insecure=True))
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)


def test_certificate_data_passes_through_private_files_that_are_gone_afterwards(
    certs: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[tuple[str, int, bytes]] = []
    load = ssl.SSLContext.load_cert_chain

    def spying(context: ssl.SSLContext, certfile: Any, keyfile: Any = None) -> None:
        for name in (certfile, keyfile):
            path = Path(name)
            seen.append((path.parent.name, path.stat().st_mode & 0o777, path.read_bytes()))
        load(context, certfile, keyfile)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spying)
    info = kopf.ConnectionInfo(
        server="https://k",
        certificate_data=_b64(certs.client_cert),
        private_key_data=certs.client_key.read_text(),  # PEM as it is: also accepted
    )
    ssl_context(info)
    assert seen == [
        (tmp_path.name, 0o600, certs.client_cert.read_bytes()),
        (tmp_path.name, 0o600, certs.client_key.read_bytes()),
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url", ["ftp://k", "https://", "https://k:port", "k:6443"], ids=["ftp", "host", "port", "bare"]
)
def test_a_server_url_the_client_cannot_use_is_refused_at_login(url: str) -> None:
    with pytest.raises(LeaseApiError, match=r"needs a host and https or http|port") as refused:
        endpoint(kopf.ConnectionInfo(server=url))
    assert refused.value.status is None


# --------------------------------------------------------------------------- requests


def test_read_gets_the_lease_with_the_token(fake: FakeLeases) -> None:
    stored = fake.put("ns", "l", SPEC)
    assert _api(fake.url, token="t0k").read("ns", "l") == stored
    (request,) = fake.requests
    assert (request.method, request.path, request.body) == ("GET", f"{PATH}/l", None)
    assert request.headers["Authorization"] == "Bearer t0k"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("eks-oidc-operator/")


def test_a_missing_lease_reads_as_none(fake: FakeLeases) -> None:
    assert _api(fake.url).read("ns", "l") is None
    assert "Authorization" not in fake.requests[0].headers


def test_create_posts_the_body_as_json(fake: FakeLeases) -> None:
    body = {"metadata": {"name": "l", "namespace": "ns"}, "spec": SPEC}
    created = _api(fake.url, token="t").create("ns", body)
    assert created["metadata"]["resourceVersion"] == "1"
    (request,) = fake.requests
    assert (request.method, request.path, request.body) == ("POST", PATH, body)
    assert request.headers["Content-Type"] == "application/json"


def test_replace_puts_the_body_and_a_stale_version_is_a_conflict(fake: FakeLeases) -> None:
    api = _api(fake.url)
    stored = fake.put("ns", "l", SPEC)
    written = api.replace("ns", "l", {**stored, "spec": {"holderIdentity": "b"}})
    assert written["spec"] == {"holderIdentity": "b"}
    assert fake.requests[0].method == "PUT"
    assert fake.requests[0].path == f"{PATH}/l"
    assert fake.requests[0].body == {**stored, "spec": {"holderIdentity": "b"}}
    with pytest.raises(LeaseApiError) as conflict:
        api.replace("ns", "l", stored)  # the version read before that write
    assert (conflict.value.status, conflict.value.reason) == (409, "Conflict")


@pytest.mark.parametrize(("status", "reason"), [(403, "Forbidden"), (500, "Internal Server Error")])
def test_an_error_answer_keeps_its_status_and_reason(
    fake: FakeLeases, status: int, reason: str
) -> None:
    fake.answer("GET", status)
    with pytest.raises(LeaseApiError) as failed:
        _api(fake.url).read("ns", "l")
    assert (failed.value.status, failed.value.reason) == (status, reason)
    assert str(failed.value) == f"{status} {reason}"


def test_names_are_quoted_into_the_path(fake: FakeLeases) -> None:
    _api(fake.url).read("n s", "a/b")
    assert fake.requests[0].path == "/apis/coordination.k8s.io/v1/namespaces/n%20s/leases/a%2Fb"


def test_a_path_in_the_server_url_prefixes_every_request(fake: FakeLeases) -> None:
    _api(f"{fake.url}/proxy/").read("ns", "l")
    assert fake.requests[0].path == f"/proxy{PATH}/l"


def test_no_server_is_an_error_without_a_status() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(LeaseApiError) as failed:
        _api(f"http://127.0.0.1:{port}").read("ns", "l")
    assert failed.value.status is None


def test_a_server_that_never_answers_is_given_up_on_after_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never accepts
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(LeaseApiError, match="timed out") as failed:
            _api(url).read("ns", "l", timeout=0.2)
    assert failed.value.status is None


# --------------------------------------------------------------------------- logging in


def test_the_login_is_renewed_when_it_is_old_and_after_a_401(fake: FakeLeases) -> None:
    tokens = iter(f"t{n}" for n in range(10))

    def login() -> Endpoint:
        return endpoint(kopf.ConnectionInfo(server=fake.url, token=next(tokens)))

    api = LeaseApi(login, refresh=3600)
    api.read("ns", "l")
    api.read("ns", "l")
    fake.answer("GET", 401)
    with pytest.raises(LeaseApiError):
        api.read("ns", "l")
    api.read("ns", "l")
    expired = LeaseApi(login, refresh=0)
    expired.read("ns", "l")
    expired.read("ns", "l")
    sent = [request.headers["Authorization"] for request in fake.requests]
    assert sent == ["Bearer t0", "Bearer t0", "Bearer t0", "Bearer t1", "Bearer t2", "Bearer t3"]


def test_a_login_that_fails_later_fails_that_call_only(fake: FakeLeases) -> None:
    calls = []

    def login() -> Endpoint:
        calls.append(1)
        if len(calls) == 1:
            raise kopf.LoginError("the token file is gone")
        return endpoint(kopf.ConnectionInfo(server=fake.url))

    api = LeaseApi(login)
    with pytest.raises(LeaseApiError, match="logging in failed: the token file is gone"):
        api.read("ns", "l")
    assert api.read("ns", "l") is None


def test_connect_logs_in_with_kubeconfig_outside_a_pod(
    fake: FakeLeases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: '{fake.url}'}}}}]\n"
        "users: [{name: u, user: {token: from-kubeconfig}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    monkeypatch.setattr(kopf, "login_with_service_account", lambda **_: None)
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert connect().read("ns", "l") is None
    assert fake.requests[0].headers["Authorization"] == "Bearer from-kubeconfig"


def test_connect_without_any_credentials_fails_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kopf, "login_with_service_account", lambda **_: None)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(LeaseApiError, match="no credentials"):
        connect()


def test_the_service_account_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    account = kopf.ConnectionInfo(server="https://kubernetes.default.svc", token="sa")
    monkeypatch.setattr(kopf, "login_with_service_account", lambda **_: account)
    monkeypatch.setattr(kopf, "login_with_kubeconfig", lambda **_: pytest.fail("not asked"))
    made = leases.login()
    assert made.server.hostname == "kubernetes.default.svc"
    assert made.headers == {"Authorization": "Bearer sa"}


# --------------------------------------------------------------------------- TLS and proxies


def test_tls_with_the_ca_and_client_certificate_from_kubeconfig_data(
    certs: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with serve(certs.server_context()) as tls:
        api = _api(
            tls.url,
            ca_data=_b64(certs.ca),
            certificate_data=_b64(certs.client_cert),
            private_key_data=_b64(certs.client_key),
        )
        assert api.read("ns", "l") is None
    assert tls.requests[0].client == "lease-client"
    assert list(tmp_path.iterdir()) == []


def test_tls_with_certificate_paths(certs: Pki) -> None:
    with serve(certs.server_context()) as tls:
        api = _api(
            tls.url,
            ca_path=str(certs.ca),
            certificate_path=str(certs.client_cert),
            private_key_path=str(certs.client_key),
        )
        assert api.read("ns", "l") is None
    assert tls.requests[0].client == "lease-client"


def test_a_server_certificate_from_another_ca_is_refused_unless_insecure(
    certs: Pki, tmp_path: Path
) -> None:
    other = make_pki(tmp_path)
    paths = {
        "certificate_path": str(certs.client_cert),
        "private_key_path": str(certs.client_key),
    }
    with serve(certs.server_context()) as tls:
        with pytest.raises(LeaseApiError, match="CERTIFICATE_VERIFY_FAILED") as refused:
            _api(tls.url, ca_path=str(other.ca), **paths).read("ns", "l")
        assert refused.value.status is None
        assert _api(tls.url, insecure=True, **paths).read("ns", "l") is None


def test_a_proxy_url_is_tunnelled_through_with_its_credentials(certs: Pki) -> None:
    with serve(certs.server_context()) as tls, proxy() as tunnels:
        host = tunnels.url.removeprefix("http://")
        api = _api(
            tls.url,
            proxy_url=f"http://me:s%40cret@{host}",
            ca_path=str(certs.ca),
            certificate_path=str(certs.client_cert),
            private_key_path=str(certs.client_key),
            token="t",
        )
        assert api.read("ns", "l") is None
    ((first, headers),) = tunnels.asked
    assert first.startswith(f"CONNECT {tls.url.removeprefix('https://')} ")
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"me:s@cret").decode()
    assert tls.requests[0].headers["Authorization"] == "Bearer t"
