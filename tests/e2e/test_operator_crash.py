"""No crash produces a second association: SIGKILL the operator right after EKS accepted the
association, start it again, and the object still goes Ready with exactly one association in
EKS (one AssociateIdentityProviderConfig call, or, when the crash lost status, a second call
that EKS replays from the same clientRequestToken). The same at each step of a
make-before-break replacement: one config at the end, and none orphaned.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.sampling import ConfigSampler
from eks_oidc_testing.simulator import SimulatorHandle, running_simulator
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import condition, get_object, manifest, new_name, with_condition
from tests.support.simulator_calls import calls
from tests.support.waiting import wait_for

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


def _lose_status(cluster: Cluster, namespace: str, name: str) -> None:
    """Remove the object's status, as a crash before the status write would leave it."""
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
        _lose_status(cluster, namespace, name)
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
    assert obj["status"]["update"]["status"] == "Successful"
    eks = simulator.boto3_client()
    associates = [
        call for call in simulator.requests(ASSOCIATE) if call.get("cluster") == eks_cluster
    ]
    # The kill comes right after EKS counted the Associate, so the status write may not have
    # happened even when status is kept; with it lost the object certainly looks new. Then the
    # restart associates without looking first, and that must be a replay, not a second
    # association: the same clientRequestToken, answered with the original update, and one
    # association in EKS's own history.
    assert 1 <= len(associates) <= 2
    if status_lost:
        assert len(associates) == 2
    assert len({call["client_request_token"] for call in associates}) == 1
    history = eks.list_updates(name=eks_cluster)["updateIds"]
    kinds = [
        str(eks.describe_update(name=eks_cluster, updateId=u)["update"]["type"]) for u in history
    ]
    assert kinds.count(ASSOCIATE) == 1
    assert obj["status"]["update"]["id"] in history
    configs = eks.list_identity_provider_configs(clusterName=eks_cluster)
    assert [c["name"] for c in configs["identityProviderConfigs"]] == [name]


DISASSOCIATE = "DisassociateIdentityProviderConfig"
NEW_ISSUER = "https://login.new.example.com"


def _ready_at(cluster: Cluster, namespace: str, name: str, generation: int) -> Any:
    obj = with_condition(cluster, namespace, name, "Ready")
    return obj if obj and obj["status"]["observedGeneration"] == generation else None


def _wait_for_calls(
    simulator: SimulatorHandle, operation: str, eks_cluster: str, count: int, operator: Any
) -> None:
    deadline = time.monotonic() + 60
    while calls(simulator, operation, eks_cluster) < count:
        assert time.monotonic() < deadline, operator.log_tail()
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("operation", "count", "status_lost"),
    # Each step once against the real parts (the unit tests of tests/unit/reconcile/
    # test_replacement.py cover every step with status kept and lost).
    [(ASSOCIATE, 2, False), (DISASSOCIATE, 1, True)],
    ids=["after-the-new-association", "after-the-old-disassociation-status-lost"],
)
def test_a_sigkill_at_each_step_of_a_replacement_ends_with_one_config_and_no_orphan(
    cluster: Cluster,
    namespace: str,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path: Path,
    operation: str,
    count: int,
    status_lost: bool,
) -> None:
    """Make-before-break on 1.33: the operator is killed right after EKS accepted the new
    config's association, or the old config's disassociation; the one started next finds that
    work in EKS (the new config under its derived name, the old one DELETING) instead of
    repeating it, and no moment of the whole run lacks an ACTIVE config of the object's. With
    ``status_lost`` the object's status is removed too, so only EKS (the owner tag and the
    derived name) tells the restarted operator what was done."""
    eks_cluster = unique_name("r")
    simulator.create_cluster(eks_cluster, "1.33")
    first = _operator(cluster, simulator, tmp_path)
    first.start()
    name = new_name()
    owner = f"{namespace}/{name}"
    sampler = ConfigSampler(simulator, eks_cluster)
    try:
        assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
        wait_for("Ready", lambda: _ready_at(cluster, namespace, name, 1), first, timeout=60)
        with sampler.running():
            patch = json.dumps({"spec": {"oidc": {"issuerUrl": NEW_ISSUER}}})
            cluster.kubectl(
                "patch", f"oidcidp/{name}", "-n", namespace, "--type=merge", "-p", patch
            )
            _wait_for_calls(simulator, operation, eks_cluster, count, first)
            first.stop(signal.SIGKILL)
            if status_lost:
                _lose_status(cluster, namespace, name)
            (tmp_path / "second").mkdir()
            with running_operator(cluster, simulator, tmp_path / "second") as second:
                try:
                    done = wait_for(
                        "Ready after the restart",
                        lambda: _ready_at(cluster, namespace, name, 2),
                        second,
                        timeout=30,
                    )
                except BaseException:
                    print("DEBUG", json.dumps(get_object(cluster, namespace, name), indent=1))
                    print(
                        "DEBUG",
                        json.dumps(
                            simulator.call("GET", "/_sim/state")["clusters"][-1]["configs"],
                            indent=1,
                        ),
                    )
                    raise
    finally:
        first.stop(signal.SIGKILL)
    assert [s for s in sampler.samples if not s.active_of(owner)] == []
    target = done["status"]["identityProviderConfigName"]
    assert target != name  # the new config's derived name
    eks = simulator.boto3_client()
    listed = eks.list_identity_provider_configs(clusterName=eks_cluster)
    assert [c["name"] for c in listed["identityProviderConfigs"]] == [target]
    described = eks.describe_identity_provider_config(
        clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": target}
    )["identityProviderConfig"]["oidc"]
    assert (described["issuerUrl"], described["tags"]["eksoidc.io/owner"]) == (NEW_ISSUER, owner)
    assert (
        calls(simulator, ASSOCIATE, eks_cluster),
        calls(simulator, DISASSOCIATE, eks_cluster),
    ) == (
        2,
        1,
    )
