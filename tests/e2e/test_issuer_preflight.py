"""The issuer pre-flight end to end: real HTTPS issuers on loopback (their CA handed to the
operator as its CA bundle), the operator as a process with the pre-flight enforced, the EKS
simulator. An issuer that answers wrongly stalls the object in seconds, with no EKS call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eks_oidc_testing.issuer import LocalIssuers, local_issuers
from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.e2e.conftest import (
    calls,
    condition,
    eks_calls,
    events_of,
    manifest,
    new_name,
    running_operator,
    wait_for,
    with_condition,
)

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
        ("mismatch", "IssuerMismatch"),
        ("nokeys", "IssuerNoKeys"),
        ("broken", "IssuerUnreachable"),
        ("untrusted", "IssuerUnreachable"),
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
    url = issuers.untrusted if variant == "untrusted" else issuers.url(variant)
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
        "Stalled by EKS",
        lambda: with_condition(cluster, namespace, bad, "Stalled"),
        operator,
        timeout=60,
    )
    assert condition(stalled, "Stalled")["reason"] == "UpdateFailedUnknown"
    assert (
        "Unable to fetch the OpenID configuration of the issuer"
        in (condition(stalled, "Stalled")["message"])
    )
    assert stalled["status"]["update"]["status"] == "Failed"
    # Both were sent to EKS: the failure came from EKS's fetch, not from the operator.
    assert calls(fetching, "AssociateIdentityProviderConfig", eks_cluster) == 2
