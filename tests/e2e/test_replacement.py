"""Replacing a config end to end, watched from outside while it happens: the simulator's configs
sampled every 50 ms (``/_sim/state``, not an EKS call) and the object through an API-server
watch. On Kubernetes 1.33 a change of ``spec.oidc`` never leaves the cluster without an ACTIVE
config of the object's; where EKS cannot hold two configs (1.31) the outage is announced before
it starts; deletion in the middle leaves nothing behind. (A SIGKILL at each step of a
replacement is in ``test_operator_crash.py``, which runs no module-wide operator.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.sampling import ConfigSampler, ObjectSample, watched
from eks_oidc_testing.simulator import SimulatorHandle, running_simulator
from tests.support.idp_objects import (
    condition,
    events_of,
    get_object,
    manifest,
    new_name,
    with_condition,
)
from tests.support.simulator_calls import calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ASSOCIATE = "AssociateIdentityProviderConfig"
DISASSOCIATE = "DisassociateIdentityProviderConfig"
NEW_ISSUER = "https://login.new.example.com"
DERIVED = re.compile(r"^(?P<base>.+)-[0-9a-f]{8}$")


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    # Long enough for a SIGKILL to land while an update runs, short enough for the suite.
    with running_simulator(associate_seconds=3, disassociate_seconds=3, seed=13) as sim:
        yield sim


def _cluster(simulator: SimulatorHandle, version: str) -> str:
    name = unique_name("r")
    simulator.create_cluster(name, version)
    return name


def _ready_at(cluster: Cluster, namespace: str, name: str, generation: int) -> Any:
    obj = with_condition(cluster, namespace, name, "Ready")
    return obj if obj and obj["status"]["observedGeneration"] == generation else None


def _apply_ready(
    cluster: Cluster, namespace: str, operator: OperatorProcess, eks_cluster: str
) -> str:
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    wait_for("Ready", lambda: _ready_at(cluster, namespace, name, 1), operator)
    return name


def _change_issuer(cluster: Cluster, namespace: str, name: str, issuer: str = NEW_ISSUER) -> None:
    patch = json.dumps({"spec": {"oidc": {"issuerUrl": issuer}}})
    cluster.kubectl("patch", f"oidcidp/{name}", "-n", namespace, "--type=merge", "-p", patch)


def _kubectl(cluster: Cluster) -> list[str]:
    return [str(cluster.kubectl_path), f"--kubeconfig={cluster.admin_kubeconfig}"]


def _configs(simulator: SimulatorHandle, eks_cluster: str) -> dict[str, dict[str, Any]]:
    eks = simulator.boto3_client()
    listed = eks.list_identity_provider_configs(clusterName=eks_cluster)
    found = {}
    for entry in listed["identityProviderConfigs"]:
        described = eks.describe_identity_provider_config(
            clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": entry["name"]}
        )
        found[entry["name"]] = dict(described["identityProviderConfig"]["oidc"])
    return found


def _replace_watched(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    version: str,
) -> tuple[str, str, ConfigSampler, list[ObjectSample], dict[str, Any]]:
    """A Ready object on a new cluster of ``version`` whose issuer is then changed, watched
    (its configs sampled, the object streamed) until it is Ready at the new generation:
    the cluster, the object's name, the sampler, the object's versions and its last body."""
    eks_cluster = _cluster(simulator, version)
    name = _apply_ready(cluster, namespace, operator, eks_cluster)
    sampler = ConfigSampler(simulator, eks_cluster)
    with sampler.running(), watched(_kubectl(cluster), f"oidcidp/{name}", namespace) as seen:
        _change_issuer(cluster, namespace, name)
        done = wait_for(
            "Ready with the new issuer",
            lambda: _ready_at(cluster, namespace, name, 2),
            operator,
            timeout=90,
        )
    return eks_cluster, name, sampler, seen, done


def test_make_before_break_on_1_33_never_leaves_the_cluster_without_an_active_config(
    cluster: Cluster, namespace: str, operator: OperatorProcess, simulator: SimulatorHandle
) -> None:
    eks_cluster, name, sampler, seen, done = _replace_watched(
        cluster, namespace, operator, simulator, "1.33"
    )
    owner = f"{namespace}/{name}"
    assert len(sampler.samples) > 20, "the sampler barely ran"
    gaps = [s for s in sampler.samples if not s.active_of(owner)]
    assert gaps == [], f"no ACTIVE config of ours at {len(gaps)} samples: {gaps[:3]}"
    assert any(len(s.of(owner)) == 2 for s in sampler.samples), "never two configs at once"

    configs = _configs(simulator, eks_cluster)
    assert len(configs) == 1
    ((new_name_, config),) = configs.items()
    match = DERIVED.match(new_name_)
    assert match is not None
    assert match["base"] == name
    assert (config["issuerUrl"], config["status"], config["tags"]["eksoidc.io/owner"]) == (
        NEW_ISSUER,
        "ACTIVE",
        owner,
    )
    status = done["status"]
    assert status["identityProviderConfigName"] == new_name_
    assert status["servingConfigName"] == new_name_
    assert status["identityProviderConfigArn"] == config["identityProviderConfigArn"]
    assert "previousConfig" not in status
    assert (
        calls(simulator, ASSOCIATE, eks_cluster),
        calls(simulator, DISASSOCIATE, eks_cluster),
    ) == (
        2,
        1,
    )
    assert "ReplacementOutage" not in [r for _, r, _ in events_of(cluster, namespace, name)]
    # While both existed, status recorded both, and the serving column named the old one.
    both = [
        o.body["status"]
        for o in seen
        if o.body.get("status", {}).get("previousConfig", {}).get("name") == name
    ]
    assert both
    assert both[0]["servingConfigName"] == name
    assert both[0]["identityProviderConfigName"] == new_name_


def test_on_1_31_the_outage_is_announced_before_the_old_config_goes(
    cluster: Cluster, namespace: str, operator: OperatorProcess, simulator: SimulatorHandle
) -> None:
    eks_cluster, name, sampler, seen, _ = _replace_watched(
        cluster, namespace, operator, simulator, "1.31"
    )
    owner = f"{namespace}/{name}"
    announced = [o.at for o in seen if o.condition("Ready").get("reason") == "ReplacementOutage"]
    outage = [s.at for s in sampler.samples if not s.active_of(owner)]
    assert announced, "the Ready condition never announced the outage"
    assert outage, "a 1.31 cluster holds one config: there must have been an outage"
    assert announced[0] < outage[0]
    ready = next(
        o.condition("Ready")
        for o in seen
        if o.condition("Ready").get("reason") == "ReplacementOutage"
    )
    assert "Kubernetes 1.31" in ready["message"]
    assert "no sign-in" in ready["message"]
    warnings = [m for t, r, m in events_of(cluster, namespace, name) if r == "ReplacementOutage"]
    assert len(warnings) == 1
    assert "Kubernetes 1.31" in warnings[0]
    configs = _configs(simulator, eks_cluster)
    assert list(configs) == [name]  # deleting first keeps the base name
    assert configs[name]["issuerUrl"] == NEW_ISSUER


def test_deleting_in_the_middle_of_a_replacement_removes_both_configs(
    cluster: Cluster, namespace: str, operator: OperatorProcess, simulator: SimulatorHandle
) -> None:
    eks_cluster = _cluster(simulator, "1.33")
    name = _apply_ready(cluster, namespace, operator, eks_cluster)
    owner = f"{namespace}/{name}"
    sampler = ConfigSampler(simulator, eks_cluster)
    _change_issuer(cluster, namespace, name)
    wait_for("two configs", lambda: len(sampler.look().of(owner)) == 2, operator)
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--wait=false")
    wait_for(
        "object gone", lambda: get_object(cluster, namespace, name) is None, operator, timeout=90
    )
    assert sampler.look().configs == ()
    assert calls(simulator, DISASSOCIATE, eks_cluster) == 2


def test_a_failed_new_association_leaves_the_old_config_serving(
    cluster: Cluster, namespace: str, operator: OperatorProcess, simulator: SimulatorHandle
) -> None:
    eks_cluster = _cluster(simulator, "1.33")
    name = _apply_ready(cluster, namespace, operator, eks_cluster)
    owner = f"{namespace}/{name}"
    simulator.faults({"kind": "fail-association", "cluster": eks_cluster, "count": 1})
    sampler = ConfigSampler(simulator, eks_cluster)
    with sampler.running():
        _change_issuer(cluster, namespace, name)
        failed = wait_for(
            "the failed association reported",
            lambda: _reported_failure(cluster, namespace, name),
            operator,
        )
    # Retries remain: progress with the failure in the message, not Stalled.
    assert condition(failed, "Stalled")["status"] == "False"
    assert f"the old config {name} keeps serving" in condition(failed, "Ready")["message"]
    assert [s for s in sampler.samples if not s.active_of(owner)] == []
    assert failed["status"]["servingConfigName"] == name


def _reported_failure(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    """The object once its Ready condition reports a failed update."""
    obj = get_object(cluster, namespace, name)
    if obj is None or not condition(obj, "Ready").get("reason", "").startswith("UpdateFailed"):
        return None
    return obj
