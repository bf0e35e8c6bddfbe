"""The per-object controls end to end: observe only, pause, and "reconcile now".

A real kube-apiserver, the EKS simulator, and the operator as a process of each test's own
(the reconcile-now test needs a slow retry schedule, so that only the annotation can explain a
pass within seconds). The simulator's journal says who made every call: the operator signs
with its own access key, this test's boto3 client with the simulator's default one, so the
operator's mutating calls are counted apart from the ones a test makes "outside the operator".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import condition, get_object, manifest, new_name, with_condition
from tests.support.simulator_calls import calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

MUTATING = {
    "AssociateIdentityProviderConfig",
    "DisassociateIdentityProviderConfig",
    "TagResource",
    "UntagResource",
}
TEST_KEY = "AKIDSIMULATOR"
"""The access key of this test's own boto3 client (the operator signs with another)."""
ROLES = "arn:aws:iam::*:role/eks-oidc-controls-*"
POLICY = {"rules": [{"name": "controls", "namespaces": ["*"], "roleArns": [ROLES]}]}


@pytest.fixture
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    with running_operator(cluster, simulator, tmp_path) as process:
        yield process


def _by_operator(simulator: SimulatorHandle, cluster: str) -> list[dict[str, Any]]:
    """Every EKS call the operator made about ``cluster``; and every tag call, which the
    journal files under no cluster (each test has an operator and a cluster of its own)."""
    return [
        call
        for call in simulator.requests()
        if call.get("access_key_id") != TEST_KEY
        and call["operation"] != "AssumeRole"
        and call.get("cluster") in (cluster, None)
    ]


def _mutating(simulator: SimulatorHandle, cluster: str) -> list[str]:
    return [c["operation"] for c in _by_operator(simulator, cluster) if c["operation"] in MUTATING]


def _associated_outside(simulator: SimulatorHandle, cluster: str, name: str) -> str:
    """Associate config ``name`` as another tool would; its ARN once ACTIVE."""
    eks = simulator.boto3_client()
    eks.associate_identity_provider_config(
        clusterName=cluster,
        oidc={
            "identityProviderConfigName": name,
            "issuerUrl": "https://login.example.com",
            "clientId": "kubernetes",
        },
        tags={"team": "a"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = eks.describe_identity_provider_config(
            clusterName=cluster, identityProviderConfig={"type": "oidc", "name": name}
        )["identityProviderConfig"]["oidc"]
        if found["status"] == "ACTIVE":
            return str(found["identityProviderConfigArn"])
        time.sleep(0.3)
    pytest.fail(f"config {name} never became ACTIVE")


def _annotate(cluster: Cluster, namespace: str, name: str, *pairs: str) -> None:
    cluster.kubectl("annotate", "--overwrite", f"oidcidp/{name}", "-n", namespace, *pairs)


def test_an_observed_config_made_outside_is_reported_never_changed_and_left_on_delete(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    arn = _associated_outside(simulator, eks_cluster, name)
    body = manifest(name, namespace, eks_cluster, managementPolicy="Observe", tags={"team": "a"})
    assert cluster.apply(body).returncode == 0
    ready = wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    status = ready["status"]
    assert status["observedConfigArn"] == arn
    assert status["configStatus"] == "ACTIVE"
    assert status["servingConfigName"] == name
    assert "identityProviderConfigArn" not in status, "observing does not make it ours"
    assert "Observe" in condition(ready, "Ready")["message"]

    # Twenty seconds of resyncs (every 3 s here, spread over 1.5-4.5 s; every 10 minutes by
    # default): reads only. Halfway, another tool re-tags the config: the object shows drift
    # and still changes nothing.
    started = time.monotonic()
    before = len(_by_operator(simulator, eks_cluster))
    time.sleep(10)
    simulator.boto3_client().tag_resource(resourceArn=arn, tags={"team": "b"})
    drifted = wait_for(
        "DriftDetected",
        lambda: (
            (o := with_condition(cluster, namespace, name, "Stalled"))
            and condition(o, "Stalled")["reason"] == "DriftDetected"
            and o
        ),
        operator,
    )
    assert "spec.tags" in condition(drifted, "Stalled")["message"]
    time.sleep(max(0.0, 20 - (time.monotonic() - started)))
    assert _mutating(simulator, eks_cluster) == []
    made = _by_operator(simulator, eks_cluster)
    assert {c["operation"] for c in made} <= {"DescribeIdentityProviderConfig", "DescribeCluster"}
    # The window held passes (about six resyncs are due in it; three at least, the one that
    # saw the drift among them), so "reads only" rests on passes that ran, not on a quiet
    # operator.
    assert len(made) - before >= 3, made[before:]

    # Deleted: released at once, the config stays, with the other tool's tags.
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--timeout=20s")
    assert get_object(cluster, namespace, name) is None
    assert _mutating(simulator, eks_cluster) == []
    eks = simulator.boto3_client()
    kept = eks.describe_identity_provider_config(
        clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
    )["identityProviderConfig"]["oidc"]
    assert (kept["status"], kept["tags"]) == ("ACTIVE", {"team": "b"})


def test_a_pause_during_an_update_stops_every_call_and_resuming_finishes_it_once(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    simulator.configure(clusters={eks_cluster: {"associateSeconds": 8}})
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    wait_for(
        "the update in flight",
        lambda: (get_object(cluster, namespace, name) or {}).get("status", {}).get("update"),
        operator,
    )
    _annotate(cluster, namespace, name, f"{constants.PAUSED_ANNOTATION}=true")
    paused = wait_for(
        "Paused", lambda: with_condition(cluster, namespace, name, "Paused"), operator
    )
    assert condition(paused, "Ready")["status"] == "False", "Ready as the last pass left it"
    # kubectl get tells a paused object apart (its columns start where their headers do).
    header, row = cluster.kubectl("get", "oidcidp", name, "-n", namespace).stdout.splitlines()[:2]
    assert row[header.index("PAUSED") :].split()[0] == "True"
    calls_paused = len(_by_operator(simulator, eks_cluster))
    # EKS finishes the association meanwhile; a paused object does not look.
    time.sleep(10)
    assert len(_by_operator(simulator, eks_cluster)) == calls_paused
    assert condition(get_object(cluster, namespace, name), "Ready")["status"] == "False"

    cluster.kubectl(
        "annotate", f"oidcidp/{name}", "-n", namespace, f"{constants.PAUSED_ANNOTATION}-"
    )
    ready = wait_for(
        "Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator, timeout=30
    )
    assert condition(ready, "Paused") == {}
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1

    # Paused again and deleted: the deletion waits, saying so, and disassociates nothing.
    _annotate(cluster, namespace, name, f"{constants.PAUSED_ANNOTATION}=true")
    wait_for("Paused", lambda: with_condition(cluster, namespace, name, "Paused"), operator)
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--wait=false")
    waiting = wait_for(
        "the paused deletion",
        lambda: (
            (o := get_object(cluster, namespace, name))
            and "deletion waits" in condition(o, "Paused").get("message", "")
            and o
        ),
        operator,
    )
    assert waiting["metadata"]["deletionTimestamp"]
    time.sleep(3)
    assert get_object(cluster, namespace, name) is not None
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 0
    cluster.kubectl(
        "annotate", f"oidcidp/{name}", "-n", namespace, f"{constants.PAUSED_ANNOTATION}-"
    )
    wait_for(
        "the object gone",
        lambda: get_object(cluster, namespace, name) is None,
        operator,
        timeout=60,
    )
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 1


def test_reconcile_now_after_an_iam_fix_passes_at_once_not_at_the_retry(
    cluster: Cluster,
    namespace: str,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    eks_cluster: str,
    tmp_path: Path,
) -> None:
    # Retries of an IAM refusal and resyncs at their real pace: only the annotation can bring
    # a pass within the test's seconds.
    slow = {
        "EKS_OIDC_SLOW_RETRY_BASE_SECONDS": "600",
        "EKS_OIDC_SLOW_RETRY_MAX_SECONDS": "1800",
        "EKS_OIDC_RESYNC_SECONDS": "600",
    }
    role = f"arn:aws:iam::111111111111:role/eks-oidc-controls-{new_name()}"
    simulator.faults({"kind": "deny-assume-role", "roleArn": role})
    with running_operator(cluster, simulator, tmp_path, env=slow, tenancy=POLICY) as process:
        name = new_name()
        assert cluster.apply(manifest(name, namespace, eks_cluster, roleArn=role)).returncode == 0
        stalled = wait_for(
            "Stalled", lambda: with_condition(cluster, namespace, name, "Stalled"), process
        )
        assert condition(stalled, "Stalled")["reason"] == "AccessDenied"
        simulator.clear_faults()  # the trust policy is fixed in IAM
        time.sleep(2)
        assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 0

        asked = "2026-12-02T12:00:00Z"
        _annotate(cluster, namespace, name, f"{constants.RECONCILE_ANNOTATION}={asked}")
        ready = wait_for(
            "Ready",
            lambda: with_condition(cluster, namespace, name, "Ready"),
            process,
            timeout=20,
        )
        assert ready["status"]["lastHandledReconcileAt"] == asked
        assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1
        # The same value again is no new request: no pass, no call.
        before = len(_by_operator(simulator, eks_cluster))
        _annotate(cluster, namespace, name, f"{constants.RECONCILE_ANNOTATION}={asked}")
        time.sleep(2)
        assert len(_by_operator(simulator, eks_cluster)) == before
        cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--timeout=60s")
