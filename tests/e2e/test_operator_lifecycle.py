"""The operator end to end: a real kube-apiserver, the EKS simulator over HTTP, the operator as a
real process under the chart's RBAC. Each test uses its own namespace and its own EKS cluster.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
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

# Also in the kind tier: a whole lifecycle against a cluster with a controller-manager.
pytestmark = [pytest.mark.e2e, pytest.mark.kind]


def _ready(cluster: Cluster, namespace: str, name: str) -> Any:
    return with_condition(cluster, namespace, name, "Ready")


def _apply_ready(
    cluster: Cluster, namespace: str, operator: OperatorProcess, eks_cluster: str, **spec: Any
) -> tuple[str, dict[str, Any]]:
    """Apply a new object and wait until it is Ready; return its name and body."""
    name = new_name()
    applied = cluster.apply(manifest(name, namespace, eks_cluster, **spec))
    assert applied.returncode == 0, applied.stderr
    return name, wait_for("Ready", lambda: _ready(cluster, namespace, name), operator)


def _delete_and_wait_gone(
    cluster: Cluster, namespace: str, name: str, operator: OperatorProcess
) -> None:
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--wait=false")
    wait_for(
        "object gone", lambda: get_object(cluster, namespace, name) is None, operator, timeout=90
    )


def _patch_spec(cluster: Cluster, namespace: str, name: str, spec: dict[str, Any]) -> None:
    patch = json.dumps({"spec": spec})
    cluster.kubectl("patch", f"oidcidp/{name}", "-n", namespace, "--type=merge", "-p", patch)


def _ready_at(cluster: Cluster, namespace: str, name: str, generation: int) -> Any:
    obj = _ready(cluster, namespace, name)
    return obj if obj and obj["status"]["observedGeneration"] == generation else None


def _reasons(cluster: Cluster, namespace: str, name: str) -> list[str]:
    return [reason for _, reason, _ in events_of(cluster, namespace, name)]


def _describe(simulator: SimulatorHandle, cluster: str, name: str) -> dict[str, Any] | None:
    eks = simulator.boto3_client()
    try:
        found = eks.describe_identity_provider_config(
            clusterName=cluster, identityProviderConfig={"type": "oidc", "name": name}
        )
    except eks.exceptions.ResourceNotFoundException:
        return None
    config: dict[str, Any] = dict(found["identityProviderConfig"]["oidc"])
    return config


def test_apply_goes_ready_and_kubectl_wait_returns(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    spec = {
        "oidc": {
            "usernameClaim": "email",
            "groupsClaim": "groups",
            "groupsPrefix": "oidc:",
            "requiredClaims": {"hd": "example.com"},
        },
        "tags": {"team": "platform"},
    }
    assert cluster.apply(manifest(name, namespace, eks_cluster, **spec)).returncode == 0
    waited = cluster.kubectl(
        "wait",
        f"oidcidp/{name}",
        "-n",
        namespace,
        "--for=condition=Ready",
        "--timeout=60s",
        check=False,
        timeout=90,
    )
    assert waited.returncode == 0, waited.stderr + operator.log_tail()

    obj = get_object(cluster, namespace, name)
    assert obj is not None
    status = obj["status"]
    config = _describe(simulator, eks_cluster, name)
    assert config is not None
    assert config["status"] == "ACTIVE"
    assert config["requiredClaims"] == {"hd": "example.com"}
    # The spec's tags, and the ownership tag naming this object.
    assert config["tags"] == {"team": "platform", "eksoidc.io/owner": f"{namespace}/{name}"}
    assert status["identityProviderConfigArn"] == config["identityProviderConfigArn"]
    assert status["configStatus"] == "ACTIVE"
    assert status["phase"] == "Active"
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    assert status["update"]["type"] == "AssociateIdentityProviderConfig"
    assert status["update"]["status"] == "Successful"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "Reconciling": "False",
        "Stalled": "False",
    }
    assert "eksoidc.io/finalizer" in obj["metadata"]["finalizers"]
    reasons = _reasons(cluster, namespace, name)
    assert reasons[:2] == ["Associating", "Associated"]
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1
    metrics = operator.metrics()
    assert 'eks_oidc_passes_total{phase="Active",result="ok",trigger="poll"}' in metrics
    assert 'eks_oidc_events_total{reason="Associated",type="Normal"}' in metrics
    # Every HTTP attempt of every AWS call, as botocore saw it, by operation and outcome.
    assert (
        'eks_oidc_aws_requests_total{code="",operation="AssociateIdentityProviderConfig",'
        'retry="false",service="eks",status="200"}'
    ) in metrics
    assert 'eks_oidc_object_conditions{status="True",type="Ready"}' in metrics
    assert "eks_oidc_build_info{" in metrics
    assert "_created" not in metrics
    # Log lines about the object name it.
    assert f"[{namespace}/{name}] Handler 'reconcile' succeeded" in operator.log()
    printed = cluster.kubectl("get", "oidcidp", name, "-n", namespace).stdout
    assert "Active" in printed
    assert "Successful" in printed
    header, row = printed.splitlines()[:2]
    # Managed, not only observed (a column starts where its header does).
    assert row[header.index("MODE") :].split()[0] == "Full"
    assert "PAUSED" in header.split()
    # -o wide says why: the Ready condition's reason and message, and the config worked on.
    wide = cluster.kubectl("get", "oidcidp", name, "-n", namespace, "-o", "wide").stdout
    assert {"TARGET", "REASON", "MESSAGE"} <= set(wide.split("\n")[0].split())
    assert f"Config {name} is ACTIVE on cluster {eks_cluster} and matches the spec" in wide


def test_a_failed_update_stalls_with_eks_code_message_and_a_warning_event(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    simulator.faults(
        {
            "kind": "fail-association",
            "cluster": eks_cluster,
            "errorCode": "ConfigurationConflict",
            "errorMessage": "Issuer https://login.example.com is not reachable",
        }
    )
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    obj = wait_for(
        "Stalled=True", lambda: with_condition(cluster, namespace, name, "Stalled"), operator
    )
    stalled = condition(obj, "Stalled")
    # The reason reads on its own; EKS's code ends it and leads the message, with EKS's words.
    assert stalled["reason"] == "UpdateFailedConfigurationConflict"
    assert "errorCode ConfigurationConflict: Issuer" in stalled["message"]
    assert "not reachable" in stalled["message"]
    assert condition(obj, "Ready")["status"] == "False"
    assert obj["status"]["phase"] == "Failed"
    assert obj["status"]["update"]["status"] == "Failed"
    assert obj["status"]["update"]["errors"][0]["errorCode"] == "ConfigurationConflict"
    warnings = [(r, m) for t, r, m in events_of(cluster, namespace, name) if t == "Warning"]
    assert ("UpdateFailedConfigurationConflict", stalled["message"]) in warnings
    # ConfigurationConflict is never retried until the spec changes.
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1


def test_a_busy_cluster_is_waited_for_then_ready(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    simulator.faults({"kind": "phantom-update", "cluster": eks_cluster, "seconds": 4})
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    wait_for(
        "Reconciling with ClusterUpdateInProgress",
        lambda: (
            condition(get_object(cluster, namespace, name), "Reconciling").get("reason")
            == "ClusterUpdateInProgress"
        ),
        operator,
    )
    wait_for("Ready", lambda: _ready(cluster, namespace, name), operator)
    journal = [
        c["status"]
        for c in simulator.requests("AssociateIdentityProviderConfig")
        if c.get("cluster") == eks_cluster
    ]
    assert 409 in journal
    assert journal[-1] == 200


def test_a_missing_cluster_is_waited_for_then_ready_once_created(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
) -> None:
    future = new_name()
    name = new_name()
    assert cluster.apply(manifest(name, namespace, future)).returncode == 0
    obj = wait_for(
        "ClusterNotFound",
        lambda: (
            o
            if condition(o := get_object(cluster, namespace, name), "Ready").get("reason")
            == "ClusterNotFound"
            else None
        ),
        operator,
    )
    assert obj["status"]["phase"] == "Pending"
    simulator.create_cluster(future, "1.33")
    wait_for("Ready", lambda: _ready(cluster, namespace, name), operator)
    assert _describe(simulator, future, name) is not None


def test_changed_tags_are_synced_without_replacement(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    assert (
        cluster.apply(manifest(name, namespace, eks_cluster, tags={"a": "1", "b": "2"})).returncode
        == 0
    )
    before = wait_for("Ready", lambda: _ready(cluster, namespace, name), operator)
    _patch_spec(cluster, namespace, name, {"tags": {"a": "9", "b": None, "c": "3"}})
    wait_for(
        "tags synced",
        lambda: (
            (_describe(simulator, eks_cluster, name) or {}).get("tags")
            == {"a": "9", "c": "3", "eksoidc.io/owner": f"{namespace}/{name}"}
        ),
        operator,
    )
    after = wait_for(
        "Ready at generation 2",
        partial(_ready_at, cluster, namespace, name, 2),
        operator,
    )
    arn = before["status"]["identityProviderConfigArn"]
    assert after["status"]["identityProviderConfigArn"] == arn
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 0
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1
    assert "TagsUpdated" in _reasons(cluster, namespace, name)


def test_changed_oidc_settings_replace_the_config(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name, before = _apply_ready(cluster, namespace, operator, eks_cluster)
    _patch_spec(cluster, namespace, name, {"oidc": {"clientId": "new-client"}})
    wait_for(
        "Replacing",
        lambda: (
            (get_object(cluster, namespace, name) or {}).get("status", {}).get("phase")
            == "Replacing"
        ),
        operator,
    )
    after = wait_for(
        "Ready with the new config",
        partial(_ready_at, cluster, namespace, name, 2),
        operator,
        timeout=90,
    )
    config = _describe(simulator, eks_cluster, name)
    assert config is not None
    assert config["clientId"] == "new-client"
    assert after["status"]["identityProviderConfigArn"] == config["identityProviderConfigArn"]
    assert (
        after["status"]["identityProviderConfigArn"]
        != before["status"]["identityProviderConfigArn"]
    )
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 1
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 2
    assert "Replacing" in _reasons(cluster, namespace, name)
    # The outage was announced, with its cause (same issuer: EKS allows no second config).
    outage = [m for t, r, m in events_of(cluster, namespace, name) if r == "ReplacementOutage"]
    assert len(outage) == 1
    assert "the issuer URL is unchanged" in outage[0]


def test_replacement_policy_never_refuses_an_oidc_change_until_it_is_reverted(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name, _ = _apply_ready(cluster, namespace, operator, eks_cluster, replacementPolicy="Never")
    _patch_spec(cluster, namespace, name, {"oidc": {"clientId": "new-client"}})
    stalled = wait_for(
        "ReplacementRefused",
        lambda: (
            o
            if condition(o := get_object(cluster, namespace, name), "Stalled").get("reason")
            == "ReplacementRefused"
            else None
        ),
        operator,
    )
    assert "spec.oidc.clientId" in condition(stalled, "Stalled")["message"]
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 0
    _patch_spec(cluster, namespace, name, {"oidc": {"clientId": "kubernetes"}})
    wait_for("Ready again", partial(_ready_at, cluster, namespace, name, 3), operator)
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 0
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1


def test_delete_disassociates_and_releases_the_finalizer(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name, _ = _apply_ready(cluster, namespace, operator, eks_cluster)
    _delete_and_wait_gone(cluster, namespace, name, operator)
    assert _describe(simulator, eks_cluster, name) is None
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 1
    reasons = _reasons(cluster, namespace, name)
    assert "Disassociating" in reasons


def test_retain_releases_at_once_and_leaves_the_association(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    applied = cluster.apply(manifest(name, namespace, eks_cluster, deletionPolicy="Retain"))
    assert applied.returncode == 0
    wait_for("Ready", lambda: _ready(cluster, namespace, name), operator)
    _delete_and_wait_gone(cluster, namespace, name, operator)
    config = _describe(simulator, eks_cluster, name)
    assert config is not None
    assert config["status"] == "ACTIVE"
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 0
    assert "Retained" in _reasons(cluster, namespace, name)


def test_retain_delete_mid_update_frees_the_cluster_for_the_next_object(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    # The first object is released while its association still runs. The operator must not
    # keep the cluster for an object that no longer exists: the next one on the cluster gets
    # its turn as soon as EKS's own update ends.
    simulator.configure(clusters={eks_cluster: {"associateSeconds": 6}})
    first = new_name()
    applied = cluster.apply(manifest(first, namespace, eks_cluster, deletionPolicy="Retain"))
    assert applied.returncode == 0, applied.stderr
    wait_for(
        "association started",
        lambda: calls(simulator, "AssociateIdentityProviderConfig", eks_cluster),
        operator,
    )
    _delete_and_wait_gone(cluster, namespace, first, operator)
    assert "Retained" in _reasons(cluster, namespace, first)
    # Another issuer: EKS allows one config per issuer on a cluster, and the first one stays.
    second, _ = _apply_ready(
        cluster, namespace, operator, eks_cluster, oidc={"issuerUrl": "https://other.example.com"}
    )
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) >= 2
    assert _describe(simulator, eks_cluster, second) is not None


def test_delete_while_the_cluster_is_gone_releases_at_once(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name, _ = _apply_ready(cluster, namespace, operator, eks_cluster)
    simulator.delete_cluster(eks_cluster)
    _delete_and_wait_gone(cluster, namespace, name, operator)
    assert "ClusterGone" in _reasons(cluster, namespace, name)


def test_a_config_removed_outside_is_detected_and_associated_again(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name, before = _apply_ready(cluster, namespace, operator, eks_cluster)
    simulator.boto3_client().disassociate_identity_provider_config(
        clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
    )
    wait_for(
        "DriftDetected",
        lambda: "DriftDetected" in _reasons(cluster, namespace, name),
        operator,
    )
    after = wait_for(
        "Ready with a new association",
        lambda: (
            o
            if (o := _ready(cluster, namespace, name))
            and o["status"]["identityProviderConfigArn"]
            != before["status"]["identityProviderConfigArn"]
            else None
        ),
        operator,
    )
    config = _describe(simulator, eks_cluster, name)
    assert config is not None
    assert after["status"]["identityProviderConfigArn"] == config["identityProviderConfigArn"]
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 2


def test_delete_while_creating_waits_it_out_then_disassociates(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    wait_for(
        "association started",
        lambda: calls(simulator, "AssociateIdentityProviderConfig", eks_cluster),
        operator,
    )
    _delete_and_wait_gone(cluster, namespace, name, operator)
    assert _describe(simulator, eks_cluster, name) is None
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 1
    statuses = [
        c["status"]
        for c in simulator.requests("DisassociateIdentityProviderConfig")
        if c.get("cluster") == eks_cluster
    ]
    assert statuses == [200]  # never called while CREATING (that would be a 400)


def test_throttling_beyond_botocore_retries_backs_off_then_goes_ready(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    # 4 throttles: botocore's 3 attempts all fail, the operator backs off, the next pass wins.
    simulator.faults(
        {"kind": "throttle", "operation": "AssociateIdentityProviderConfig", "count": 4}
    )
    name, _ = _apply_ready(cluster, namespace, operator, eks_cluster)
    journal = [
        c
        for c in simulator.requests("AssociateIdentityProviderConfig")
        if c.get("cluster") == eks_cluster
    ]
    assert [c["status"] for c in journal] == [429, 429, 429, 429, 200]
    # botocore's retries of one call reuse its token, and so does the operator's next pass.
    assert len({c["client_request_token"] for c in journal}) == 1
    assert "ThrottlingException" in _reasons(cluster, namespace, name)


def test_a_response_lost_after_commit_is_replayed_not_repeated(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    simulator.faults(
        {"kind": "lost-response", "operation": "AssociateIdentityProviderConfig", "count": 1}
    )
    _, obj = _apply_ready(cluster, namespace, operator, eks_cluster)
    statuses = [
        c["status"]
        for c in simulator.requests("AssociateIdentityProviderConfig")
        if c.get("cluster") == eks_cluster
    ]
    assert statuses == [500, 200]
    updates = simulator.boto3_client().list_updates(name=eks_cluster)["updateIds"]
    assert updates == [obj["status"]["update"]["id"]]


def test_objects_on_one_cluster_are_serialised_without_409s(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    names = [new_name() for _ in range(3)]
    for index, name in enumerate(names):
        spec = {"oidc": {"issuerUrl": f"https://login{index}.example.com"}}
        assert cluster.apply(manifest(name, namespace, eks_cluster, **spec)).returncode == 0
    for name in names:
        wait_for(f"{name} Ready", partial(_ready, cluster, namespace, name), operator, timeout=90)
    statuses = [
        c["status"]
        for c in simulator.requests("AssociateIdentityProviderConfig")
        if c.get("cluster") == eks_cluster
    ]
    # One update at a time per cluster, ordered inside the operator: EKS never had to say 409.
    assert statuses == [200, 200, 200]
    configs = simulator.boto3_client().list_identity_provider_configs(clusterName=eks_cluster)
    assert sorted(c["name"] for c in configs["identityProviderConfigs"]) == sorted(names)


def _gauge_total(text: str, family: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((f"{family}{{", f"{family} "))
    )


def test_the_objects_gauge_counts_what_the_api_server_holds_through_deletes(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    eks_cluster: str,
) -> None:
    name, _ = _apply_ready(cluster, namespace, operator, eks_cluster)

    def agrees() -> bool:
        held = len(cluster.get_json("oidcidp", "-A")["items"])
        return _gauge_total(operator.metrics(), "eks_oidc_objects") == held

    wait_for("the gauge agrees with the API server", agrees, operator, timeout=20)
    _delete_and_wait_gone(cluster, namespace, name, operator)
    wait_for("the gauge agrees after the delete", agrees, operator, timeout=20)
