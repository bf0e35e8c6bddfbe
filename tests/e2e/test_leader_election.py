"""Two operator replicas under the chart's RBAC (its leader-election Role included), against the
real API server: one leads and reconciles, the other stands by and reconciles nothing; the
standby takes over when the leader is killed or stops; a leader that can no longer renew its
Lease ends itself before a standby may take over.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator import constants
from eks_oidc_operator.__main__ import LOST_LEASE_EXIT_CODE
from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.idp_objects import manifest, new_name, with_condition
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

LEASE = "eks-oidc-operator"
"""The Lease the chart's Role allows (named after the release)."""
ELECTION = {
    "EKS_OIDC_LEADER_ELECTION": "true",
    "EKS_OIDC_LEADER_ELECTION_NAMESPACE": constants.OPERATOR_NAMESPACE,
    "EKS_OIDC_LEADER_ELECTION_NAME": LEASE,
    # Seconds, not the defaults' 15/10/2, so that a takeover fits a test.
    "EKS_OIDC_LEASE_DURATION_SECONDS": "3",
    "EKS_OIDC_RENEW_DEADLINE_SECONDS": "2",
    "EKS_OIDC_RETRY_PERIOD_SECONDS": "0.5",
}
RECONCILED = "Handler 'reconcile' succeeded"


class Replicas:
    """Operator replicas named ``a``, ``b``, ... (their POD_NAME), started and stopped by name."""

    def __init__(self, cluster: Cluster, simulator: SimulatorHandle, folder: Path) -> None:
        self.cluster, self.simulator, self.folder = cluster, simulator, folder
        self.running: dict[str, OperatorProcess] = {}

    def start(self, name: str, **env: str) -> OperatorProcess:
        process = OperatorProcess(
            self.cluster.operator_kubeconfig,
            self.simulator.url,
            self.folder / f"{name}.log",
            extra_env={**ELECTION, "POD_NAME": name, **env},
        )
        process.start()
        self.running[name] = process
        return process

    def holder(self) -> str | None:
        """The replica named in the Lease (``None``: nobody, or no Lease yet)."""
        found = self.cluster.kubectl(
            "get", "lease", LEASE, "-n", constants.OPERATOR_NAMESPACE, "-o", "json", check=False
        )
        if found.returncode != 0:
            return None
        identity = json.loads(found.stdout)["spec"].get("holderIdentity") or ""
        return identity.split("_")[0] or None

    def stop_all(self) -> None:
        for process in self.running.values():
            process.stop(signal.SIGKILL)


@pytest.fixture
def replicas(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path: Path,
) -> Iterator[Replicas]:
    made = Replicas(cluster, simulator, tmp_path)
    # Each test starts without a Lease, so its first replica leads at once.
    cluster.kubectl(
        "delete", "lease", LEASE, "-n", constants.OPERATOR_NAMESPACE, "--ignore-not-found"
    )
    try:
        yield made
    finally:
        made.stop_all()


def _ready_object(cluster: Cluster, namespace: str, eks_cluster: str, operator: Any) -> str:
    name = new_name()
    # An issuer of its own: EKS refuses a second config with the same issuer on one cluster.
    body = manifest(name, namespace, eks_cluster, oidc={"issuerUrl": f"https://{name}.example.com"})
    assert cluster.apply(body).returncode == 0
    wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    return name


def test_one_replica_leads_and_the_standby_reconciles_nothing(
    cluster: Cluster, namespace: str, replicas: Replicas, eks_cluster: str
) -> None:
    leader = replicas.start("a")
    wait_for("a leads", lambda: replicas.holder() == "a", leader)
    standby = replicas.start("b")
    _ready_object(cluster, namespace, eks_cluster, leader)
    time.sleep(2)  # a few of the standby's retry periods
    assert replicas.holder() == "a"
    assert RECONCILED in leader.log()
    assert RECONCILED not in standby.log()
    assert "leads" not in standby.log()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_the_standby_takes_over_when_the_leader_goes(
    cluster: Cluster,
    namespace: str,
    replicas: Replicas,
    eks_cluster: str,
    how: signal.Signals,
) -> None:
    leader = replicas.start("a")
    wait_for("a leads", lambda: replicas.holder() == "a", leader)
    standby = replicas.start("b", EKS_OIDC_LOG_FORMAT="json")
    _ready_object(cluster, namespace, eks_cluster, leader)
    leader.stop(how)
    if how == signal.SIGTERM:
        # A clean stop gives the Lease up: nobody holds it until the standby's next try.
        assert replicas.holder() in (None, "b")
    # Within one lease duration and a retry period (the wait allows many more).
    wait_for("b leads", lambda: replicas.holder() == "b", standby, timeout=20)
    created = _ready_object(cluster, namespace, eks_cluster, standby)
    assert RECONCILED in standby.log()
    # Its log is JSON, and the lines about an object name it.
    lines = [json.loads(line) for line in standby.log().splitlines() if line.startswith("{")]
    about = [line for line in lines if (line.get("object") or {}).get("name") == created]
    assert about, standby.log_tail()
    assert about[0]["object"]["namespace"] == namespace
    # The new leader's gauges were built from its own first list: every object is counted.
    held = len(cluster.get_json("oidcidp", "-A")["items"])
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in standby.metrics().splitlines()
        if line.startswith("eks_oidc_objects{")
    )
    assert counted == held
    assert "eks_oidc_leader 1.0" in standby.metrics()


def test_a_leader_that_cannot_renew_ends_itself_before_a_standby_may_lead(
    cluster: Cluster,
    namespace: str,
    replicas: Replicas,
    chart_rbac: str,
    eks_cluster: str,
) -> None:
    leader = replicas.start("a")
    wait_for("a leads", lambda: replicas.holder() == "a", leader)
    standby = replicas.start("b")
    binding = "eks-oidc-operator-leader-election"
    # Under the chart's RBAC, take the Lease away from every replica.
    cluster.kubectl("delete", "rolebinding", binding, "-n", constants.OPERATOR_NAMESPACE)
    try:
        assert leader.process is not None
        wait_for(
            "the leader exits",
            lambda: leader.process is not None and leader.process.poll() is not None,
            leader,
            timeout=20,
        )
        assert leader.process.returncode == LOST_LEASE_EXIT_CODE
        assert "lost lease" in leader.log()
        assert replicas.holder() == "a"  # nobody could write it since
    finally:
        cluster.kubectl("apply", "-f", "-", stdin=chart_rbac)
    wait_for("b leads", lambda: replicas.holder() == "b", standby, timeout=20)
    _ready_object(cluster, namespace, eks_cluster, standby)
