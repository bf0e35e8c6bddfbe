"""The elector on the Lease client, against a Lease API server on loopback: what it writes,
which failures it reports, and when it gives up leading."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import kopf
import pytest

from eks_oidc_operator.election.elector import LeaseElector, _record
from eks_oidc_operator.election.lease import LeaseRecord, LeaseTimings
from eks_oidc_operator.election.leases import LeaseApi, endpoint, parse_time
from tests.unit.election.fake_apiserver import FakeLeases, serve

FAST = LeaseTimings(lease_duration=3, renew_deadline=2, retry_period=0.05)
LEASE = ("ops", "eks-oidc-operator")
PATH = "/apis/coordination.k8s.io/v1/namespaces/ops/leases"
ELECTOR = "eks_oidc_operator.election.elector"


@pytest.fixture
def fake() -> Iterator[FakeLeases]:
    with serve() as served:
        yield served


def _elector(fake: FakeLeases, me: str = "me", changes: list[bool] | None = None) -> LeaseElector:
    api = LeaseApi(lambda: endpoint(kopf.ConnectionInfo(server=fake.url, token="t")), timeout=3)
    seen = changes if changes is not None else []
    return LeaseElector(api, *LEASE, me, FAST, on_change=seen.append)


def _held_by(fake: FakeLeases, holder: str) -> None:
    now = "2026-12-02T16:00:00.000000Z"
    spec = {"holderIdentity": holder, "leaseDurationSeconds": 15}
    fake.put(*LEASE, {**spec, "acquireTime": now, "renewTime": now, "leaseTransitions": 2})


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_lease_as_json_is_read_into_a_record() -> None:
    lease = {
        "metadata": {"name": "l", "resourceVersion": "42"},
        "spec": {
            "holderIdentity": "a_1",
            "leaseDurationSeconds": 15,
            "acquireTime": "2026-12-02T16:00:00.123456Z",
            "renewTime": "2026-12-02T16:00:10.000001Z",
            "leaseTransitions": 3,
        },
    }
    assert _record(lease) == LeaseRecord(
        holder="a_1",
        duration_seconds=15,
        acquire_time=datetime(2026, 12, 2, 16, 0, 0, 123456, tzinfo=UTC),
        renew_time=datetime(2026, 12, 2, 16, 0, 10, 1, tzinfo=UTC),
        transitions=3,
        resource_version="42",
    )


def test_a_lease_without_a_spec_is_nobodys() -> None:
    assert _record({"metadata": {}}) == LeaseRecord(None, None, None, None, 0, None)
    assert _record({"spec": {"holderIdentity": ""}}).holder is None


def test_the_first_candidate_creates_the_lease(fake: FakeLeases) -> None:
    assert _elector(fake)._try()
    get, post = fake.requests
    assert (get.method, get.path, post.method, post.path) == (
        "GET",
        f"{PATH}/{LEASE[1]}",
        "POST",
        PATH,
    )
    assert post.body is not None
    assert post.body["metadata"] == {"name": LEASE[1], "namespace": LEASE[0]}
    assert (post.body["apiVersion"], post.body["kind"]) == ("coordination.k8s.io/v1", "Lease")
    spec = post.body["spec"]
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"], spec["leaseTransitions"]) == (
        "me",
        3,  # the lease duration, in whole seconds
        0,
    )
    assert spec["acquireTime"] == spec["renewTime"]
    assert spec["renewTime"].endswith("Z")
    assert parse_time(spec["renewTime"]) is not None


def test_a_renewal_writes_with_the_version_read_and_keeps_the_acquire_time(
    fake: FakeLeases,
) -> None:
    elector = _elector(fake)
    assert elector._try()
    created = fake.leases[LEASE]
    assert elector._try()
    put = fake.requests[-1]
    assert (put.method, put.path) == ("PUT", f"{PATH}/{LEASE[1]}")
    assert put.body is not None
    assert put.body["metadata"] == created["metadata"]  # resourceVersion "1", as read
    assert put.body["spec"]["acquireTime"] == created["spec"]["acquireTime"]
    assert put.body["spec"]["renewTime"] >= created["spec"]["renewTime"]
    assert fake.leases[LEASE]["metadata"]["resourceVersion"] == "2"


def test_a_lease_another_renews_is_left_alone(fake: FakeLeases) -> None:
    _held_by(fake, "other")
    assert not _elector(fake)._try()
    assert [request.method for request in fake.requests] == ["GET"]


def test_losing_a_race_for_the_lease_is_no_warning(
    fake: FakeLeases, caplog: pytest.LogCaptureFixture
) -> None:
    fake.answer("POST", 409)  # another candidate created it first
    assert not _elector(fake)._try()
    _held_by(fake, "me")
    fake.answer("PUT", 409)  # another wrote after our read
    assert not _elector(fake)._try()
    assert _warnings(caplog) == []


@pytest.mark.parametrize(
    ("method", "what"), [("POST", "creating"), ("PUT", "writing"), ("GET", "reading")]
)
def test_any_other_failure_is_a_warning_with_its_reason(
    fake: FakeLeases, caplog: pytest.LogCaptureFixture, method: str, what: str
) -> None:
    if method != "POST":
        _held_by(fake, "me")
    fake.answer(method, 403)
    assert not _elector(fake)._try()
    assert _warnings(caplog) == [f"leader election: {what} the lease failed: Forbidden"]


def test_an_unreachable_server_is_a_warning_too(caplog: pytest.LogCaptureFixture) -> None:
    with serve() as gone:
        pass
    assert not _elector(gone)._try()
    (warning,) = _warnings(caplog)
    assert warning.startswith("leader election: reading the lease failed: ")


def test_a_leader_releases_the_lease_for_the_next_candidate(
    fake: FakeLeases, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ELECTOR)
    changes: list[bool] = []
    elector = _elector(fake, changes=changes)
    assert elector._try()
    elector.release()
    put = fake.requests[-1]
    assert put.method == "PUT"
    assert put.body is not None
    assert "holderIdentity" not in put.body["spec"]
    assert put.body["spec"]["leaseDurationSeconds"] == 1
    assert "leader election: me released the lease" in caplog.messages
    assert changes == [False]


def test_release_leaves_a_lease_of_another_alone(fake: FakeLeases) -> None:
    _held_by(fake, "other")
    _elector(fake).release()
    assert [request.method for request in fake.requests] == ["GET"]


def test_releasing_a_lease_that_is_gone_is_a_warning(
    fake: FakeLeases, caplog: pytest.LogCaptureFixture
) -> None:
    changes: list[bool] = []
    _elector(fake, changes=changes).release()
    assert _warnings(caplog) == ["leader election: could not release the lease: Not Found"]
    assert changes == [False]


def _lead(fake: FakeLeases, changes: list[bool]) -> tuple[LeaseElector, threading.Event]:
    elector = _elector(fake, changes=changes)
    elector.acquire()
    ended = threading.Event()
    elector.keep(on_lost=ended.set)
    return elector, ended


def test_the_leader_renews_until_it_releases(fake: FakeLeases) -> None:
    changes: list[bool] = []
    elector, ended = _lead(fake, changes)
    assert not ended.wait(0.5)
    renewals = sum(request.method == "PUT" for request in fake.requests)
    assert renewals >= 3
    elector.release()
    assert "holderIdentity" not in fake.leases[LEASE]["spec"]
    assert changes == [True, False]
    assert not ended.is_set()


def test_a_leader_that_finds_another_holder_stops_at_once(
    fake: FakeLeases, caplog: pytest.LogCaptureFixture
) -> None:
    changes: list[bool] = []
    elector, ended = _lead(fake, changes)
    _held_by(fake, "other")
    assert ended.wait(2)
    assert changes == [True, False]
    assert any("lost lease ops/eks-oidc-operator (holder now other)" in m for m in caplog.messages)
    elector.release()


def test_a_leader_that_cannot_renew_stops_within_the_renew_deadline(fake: FakeLeases) -> None:
    changes: list[bool] = []
    elector, ended = _lead(fake, changes)
    for _ in range(100):
        fake.answer("GET", 403)
    assert ended.wait(FAST.renew_deadline + 0.5)
    assert changes == [True, False]
    elector.release()
