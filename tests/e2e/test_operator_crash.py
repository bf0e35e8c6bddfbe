"""No crash produces a second association: SIGKILL the operator right after EKS accepted the
association, start it again, and the object still goes Ready with exactly one
AssociateIdentityProviderConfig in the simulator's books.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle, running_simulator
from tests.e2e.conftest import calls, condition, get_object, manifest, new_name, wait_for

pytestmark = pytest.mark.e2e

ASSOCIATE = "AssociateIdentityProviderConfig"
ASSOCIATE_SECONDS = 6


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    # Slow enough that the restart happens while the association is still in flight.
    with running_simulator(
        associate_seconds=ASSOCIATE_SECONDS, disassociate_seconds=2, seed=11
    ) as sim:
        yield sim


def _operator(cluster: Cluster, simulator: SimulatorHandle, tmp_path: Path) -> OperatorProcess:
    return OperatorProcess(cluster.operator_kubeconfig, simulator.url, tmp_path / "operator.log")


def _kill_right_after_the_associate_call(
    operator: OperatorProcess, simulator: SimulatorHandle, eks_cluster: str
) -> None:
    deadline = time.monotonic() + 30
    while calls(simulator, ASSOCIATE, eks_cluster) == 0:
        assert time.monotonic() < deadline, operator.log_tail()
        time.sleep(0.02)
    operator.stop(signal.SIGKILL)


@pytest.mark.parametrize(
    ("status_lost", "down_past_completion"),
    [(False, False), (True, False), (True, True)],
    ids=["status-kept", "status-lost", "status-lost-and-eks-finished-meanwhile"],
)
def test_sigkill_after_associate_then_restart_gives_ready_and_one_association(
    cluster: Cluster,
    namespace: str,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    eks_cluster: str,
    tmp_path: Path,
    status_lost: bool,
    down_past_completion: bool,
) -> None:
    first = _operator(cluster, simulator, tmp_path)
    first.start()
    name = new_name()
    try:
        assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
        _kill_right_after_the_associate_call(first, simulator, eks_cluster)
    finally:
        first.stop(signal.SIGKILL)
    if status_lost:
        # The worst moment: EKS accepted the association but the update id never reached
        # status. Remove status by hand to be sure the restart sees nothing of it.
        cluster.kubectl(
            "patch",
            f"oidcidp/{name}",
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": None}),
        )
        lost = (get_object(cluster, namespace, name) or {}).get("status")
        assert lost == {"observedGeneration": 0}  # only the CRD default is left
    if down_past_completion:
        time.sleep(ASSOCIATE_SECONDS + 1)  # EKS finishes while no operator runs
    second = _operator(cluster, simulator, tmp_path)
    second.start()
    try:
        obj = wait_for(
            "Ready after the restart",
            lambda: (
                o
                if condition(o := get_object(cluster, namespace, name), "Ready").get("status")
                == "True"
                else None
            ),
            second,
        )
    finally:
        second.stop()
    assert calls(simulator, ASSOCIATE, eks_cluster) == 1
    assert obj["status"]["update"]["status"] == "Successful"
    if status_lost:  # the update id was found again in EKS, not made anew
        assert calls(simulator, "ListUpdates", eks_cluster) >= 1
    eks = simulator.boto3_client()
    configs = eks.list_identity_provider_configs(clusterName=eks_cluster)
    assert [c["name"] for c in configs["identityProviderConfigs"]] == [name]
