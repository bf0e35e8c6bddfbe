"""The issuer pre-flight end to end: real HTTPS issuers on loopback (their CA handed to the
operator as its CA bundle), the operator as a process with the pre-flight enforced, the EKS
simulator. An issuer that answers wrongly stalls the object in seconds, with no EKS call."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from eks_oidc_operator.reconcile.rules.failures import MAX_AUTOMATIC_RETRIES
from eks_oidc_testing.issuer import LocalIssuers, local_issuers
from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import condition, events_of, manifest, new_name, with_condition
from tests.support.simulator_calls import calls, eks_calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def issuers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIssuers]:
    with local_issuers(tmp_path_factory.mktemp("issuers")) as served:
        yield served


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    issuers: LocalIssuers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    env = {
        "EKS_OIDC_ISSUER_CHECK": "Enforce",
        "EKS_OIDC_ISSUER_CA_FILE": str(issuers.ca_file),
        "EKS_OIDC_ISSUER_TIMEOUT_SECONDS": "2",
        # The test issuers are on loopback, which the fence refuses unless allowed: only
        # 127.0.0.1, so the rest of 127.0.0.0/8 stands for a range no admin allowed.
        "EKS_OIDC_ISSUER_ALLOW_CIDRS": "127.0.0.1/32",
    }
    folder = tmp_path_factory.mktemp("preflight")
    with running_operator(cluster, simulator, folder, env) as process:
        yield process


def test_a_good_issuer_is_verified_and_the_object_goes_ready(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    issuers: LocalIssuers,
    eks_cluster: str,
) -> None:
    name = new_name()
    body = manifest(name, namespace, eks_cluster, oidc={"issuerUrl": issuers.url("good")})
    assert cluster.apply(body).returncode == 0
    ready = wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    assert condition(ready, "IssuerVerified")["status"] == "True"


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("mismatch", "IssuerAnsweredWrongly"),
        ("nokeys", "IssuerAnsweredWrongly"),
        ("broken", "IssuerAnsweredWrongly"),
        ("untrusted", "IssuerAnsweredWrongly"),
        ("huge", "IssuerAnsweredWrongly"),
        ("gzip", "IssuerAnsweredWrongly"),
        ("slow", "IssuerAnsweredWrongly"),
        ("redirect", "IssuerAnsweredWrongly"),
        ("plainjwks", "IssuerNotAllowed"),
        ("metadata", "IssuerNotAllowed"),
        ("private", "IssuerNotAllowed"),
    ],
)
def test_an_issuer_that_answers_wrongly_stalls_in_seconds_with_no_eks_call(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    issuers: LocalIssuers,
    eks_cluster: str,
    variant: str,
    reason: str,
) -> None:
    url = {
        "untrusted": issuers.untrusted,
        # Loopback, but not the one address allowed: refused before any connection.
        "private": issuers.url("good").replace("127.0.0.1", "127.0.0.2"),
    }.get(variant, issuers.url(variant))
    name = new_name()
    assert (
        cluster.apply(manifest(name, namespace, eks_cluster, oidc={"issuerUrl": url})).returncode
        == 0
    )
    stalled = wait_for(
        "Stalled",
        lambda: with_condition(cluster, namespace, name, "Stalled"),
        operator,
        timeout=20,
    )
    assert condition(stalled, "Stalled")["reason"] == reason
    assert condition(stalled, "IssuerVerified")["status"] == "False"
    assert ("Warning", reason) in [(t, r) for t, r, _ in events_of(cluster, namespace, name)]
    assert eks_calls(simulator, eks_cluster) == 0
    # Coarse words only: no HTTP status, TLS error or fetched value reaches the tenant.
    told = condition(stalled, "Stalled")["message"]
    for fetched in ("HTTP 500", "HTTP 302", "/other", "169.254", "TLS:", "/keys"):
        assert fetched not in told


def test_an_issuer_with_no_route_only_warns_and_the_association_goes_ahead(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    issuers: LocalIssuers,
    eks_cluster: str,
) -> None:
    name = new_name()
    body = manifest(name, namespace, eks_cluster, oidc={"issuerUrl": issuers.dead})
    assert cluster.apply(body).returncode == 0
    ready = wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    assert condition(ready, "IssuerVerified")["reason"] == "IssuerUnreachable"
    assert ("Warning", "IssuerUnreachable") in [
        (t, r) for t, r, _ in events_of(cluster, namespace, name)
    ]


@pytest.fixture
def fetching(simulator: SimulatorHandle, issuers: LocalIssuers) -> Iterator[SimulatorHandle]:
    """The simulator fetching each issuer as EKS does (trusting the test CA) for one test."""
    simulator.configure(fetchIssuers=True, issuerCaFile=str(issuers.ca_file))
    try:
        yield simulator
    finally:
        simulator.configure(fetchIssuers=False, clearIssuerCaFile=True)


def test_with_the_pre_flight_skipped_eks_finds_the_bad_issuer_at_the_end_of_the_update(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    fetching: SimulatorHandle,
    issuers: LocalIssuers,
    eks_cluster: str,
) -> None:
    """What the pre-flight saves a user from: with it skipped, the association is accepted, and
    EKS (the simulator fetching the issuer as EKS does) fails the update only at its end; the
    object reports EKS's code and words. A good issuer goes Ready under the same fetch."""
    good, bad = new_name(), new_name()
    for name, variant in ((good, "good"), (bad, "nokeys")):
        body = manifest(
            name,
            namespace,
            eks_cluster,
            oidc={"issuerUrl": issuers.url(variant)},
            issuerCheck="Skip",
        )
        assert cluster.apply(body).returncode == 0
    wait_for("Ready", lambda: with_condition(cluster, namespace, good, "Ready"), operator)
    stalled = wait_for(
        "Stalled by EKS, its automatic retries spent",
        lambda: with_condition(cluster, namespace, bad, "Stalled"),
        operator,
        timeout=180,
    )
    assert condition(stalled, "Stalled")["reason"] == "UpdateFailedUnknown"
    assert (
        "Unable to fetch the OpenID configuration of the issuer"
        in (condition(stalled, "Stalled")["message"])
    )
    assert stalled["status"]["update"]["status"] == "Failed"
    # Both were sent to EKS: the failure came from EKS's fetch, not from the operator. The bad
    # one went Stalled only once its automatic retries were spent (Unknown may be passing).
    sent = calls(fetching, "AssociateIdentityProviderConfig", eks_cluster)
    assert sent == 2 + MAX_AUTOMATIC_RETRIES
    assert stalled["status"]["automaticRetries"] == MAX_AUTOMATIC_RETRIES


def test_a_crowd_of_slow_issuers_does_not_switch_another_objects_check_off(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    issuers: LocalIssuers,
    eks_cluster: str,
) -> None:
    """Seventeen objects on issuers that never answer (more than the pre-flight's 16
    connections) take every turn on their host for seconds; an object on a broken issuer of
    the same host, applied behind them, waits for its turn ("not checked yet") and is then
    judged on its own answer: stalled, no EKS call. When the wait for a connection counted in
    the timeout, it timed out, a timeout only warned, and it associated."""
    slow = [new_name() for _ in range(17)]
    for index, name in enumerate(slow):
        url = issuers.url(f"slow{index}")
        assert (
            cluster.apply(
                manifest(name, namespace, eks_cluster, oidc={"issuerUrl": url})
            ).returncode
            == 0
        )
    broken = new_name()
    body = manifest(broken, namespace, eks_cluster, oidc={"issuerUrl": issuers.url("broken")})
    assert cluster.apply(body).returncode == 0

    def stalled_now(name: str) -> dict[str, Any] | None:
        return with_condition(cluster, namespace, name, "Stalled")

    stalled = wait_for("Stalled", functools.partial(stalled_now, broken), operator, timeout=60)
    assert condition(stalled, "Stalled")["reason"] == "IssuerAnsweredWrongly"
    for name in slow:
        late = wait_for("Stalled", functools.partial(stalled_now, name), operator)
        assert condition(late, "Stalled")["reason"] == "IssuerAnsweredWrongly"
    assert eks_calls(simulator, eks_cluster) == 0
