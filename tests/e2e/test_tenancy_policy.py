"""The tenancy policy end to end, as a hostile tenant and a clumsy admin would meet it: nothing
is permitted until the admin grants it; a typo in the policy keeps the last valid one and is
told to the admin alone; adopting or observing a config made outside needs a grant.

A real kube-apiserver, the EKS simulator over HTTP, and an operator process of this module's
own, whose policy file the tests rewrite as kubelet would swap a ConfigMap's file.
"""

from __future__ import annotations

import json
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
from tests.support.idp_objects import condition, manifest, new_name, with_condition
from tests.support.simulator_calls import eks_calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

CONFIGMAP = f"{constants.OPERATOR_NAMESPACE}/eks-oidc-operator-tenancy"
SECRET_ROLE = "arn:aws:iam::222222222222:role/eks-oidc-operator-team-b"
SECRET_ID = "team-b-91ac-external"


class Policy:
    """The operator's policy file, replaced whole (as kubelet swaps a ConfigMap's file)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "tenancy.yaml"
        self.write({"rules": []})  # the chart's default

    def write(self, policy: dict[str, Any] | str) -> None:
        staged = self.path.with_suffix(".new")
        staged.write_text(policy if isinstance(policy, str) else json.dumps(policy))
        staged.replace(self.path)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return Policy(tmp_path_factory.mktemp("tenancy-policy"))


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    policy: Policy,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    env = {"EKS_OIDC_TENANCY_FILE": str(policy.path), "EKS_OIDC_TENANCY_CONFIGMAP": CONFIGMAP}
    folder = tmp_path_factory.mktemp("tenancy")
    with running_operator(cluster, simulator, folder, env) as process:
        yield process


def _granting(namespace: str, **more: Any) -> dict[str, Any]:
    return {
        "rules": [
            {"name": "team-a", "namespaces": [namespace], "operatorIdentity": True, **more},
            {
                "name": "team-b",
                "namespaces": ["team-b"],
                "roleArns": [SECRET_ROLE],
                "externalId": SECRET_ID,
            },
        ]
    }


def _metric(operator: OperatorProcess, family: str) -> float:
    for line in operator.metrics().splitlines():
        if line.startswith(family + " "):
            return float(line.split()[1])
    raise AssertionError(f"{family} not exported")


def test_nothing_is_permitted_until_granted_and_a_typo_stays_with_the_admin(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    policy: Policy,
    eks_cluster: str,
) -> None:
    # Read at start-up (its signals are set before any object asks).
    assert _metric(operator, "eks_oidc_tenancy_policy_valid") == 1
    # The shipped policy: a tenant's object makes no AWS call at all.
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    stalled = wait_for(
        "NotPermitted", lambda: with_condition(cluster, namespace, name, "Stalled"), operator
    )
    assert condition(stalled, "Stalled")["reason"] == "NotPermitted"
    assert "tenancy.rules" in condition(stalled, "Stalled")["message"]
    assert eks_calls(simulator, eks_cluster) == 0

    # The admin grants the namespace: it goes ahead (at its next resync, 3 s here).
    policy.write(_granting(namespace))
    wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    assert _metric(operator, "eks_oidc_tenancy_policy_valid") == 1

    # A typo (externalld): the last valid policy stays, the Ready object stays Ready through
    # several resyncs, and nothing of the file reaches the tenant.
    typo = json.dumps(_granting(namespace)).replace("externalId", "externalld")
    policy.write(typo)
    wait_for(
        "the metric to drop",
        lambda: _metric(operator, "eks_oidc_tenancy_policy_valid") == 0 or None,
        operator,
    )
    time.sleep(8)
    still = with_condition(cluster, namespace, name, "Ready")
    assert still is not None, "a typo in the policy must not take a Ready object down"
    assert SECRET_ROLE not in json.dumps(still["status"])
    assert SECRET_ID not in json.dumps(still["status"])

    # The admin is told: an event on the policy's ConfigMap, with the problem.
    def told() -> list[dict[str, Any]]:
        listed = cluster.kubectl(
            "get", "events", "-n", constants.OPERATOR_NAMESPACE, "-o", "json"
        ).stdout
        return [e for e in json.loads(listed)["items"] if e["reason"] == "InvalidTenancyPolicy"]

    event = wait_for("the ConfigMap's event", told, operator)[-1]
    assert event["involvedObject"]["kind"] == "ConfigMap"
    assert "externalld" in event["message"]
    assert "the last valid policy stays in force" in event["message"]
    tenants = cluster.kubectl("get", "events", "-n", namespace, "-o", "json").stdout
    assert "InvalidTenancyPolicy" not in tenants


def test_a_wildcard_rule_is_warned_about_and_counted(
    cluster: Cluster, operator: OperatorProcess, policy: Policy, namespace: str, eks_cluster: str
) -> None:
    policy.write({"rules": [{"name": "everyone", "namespaces": ["*"], "operatorIdentity": True}]})
    # The file is read at the next pass: any object's (a new one here).
    assert cluster.apply(manifest(new_name(), namespace, eks_cluster)).returncode == 0
    wait_for(
        "the wildcard metric",
        lambda: _metric(operator, "eks_oidc_tenancy_wildcard_rules") == 1 or None,
        operator,
        timeout=20,
    )
    assert "rule(s) everyone grant every namespace or any role" in operator.log()


def test_a_config_made_outside_is_neither_adopted_nor_observed_without_a_grant(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    policy: Policy,
    eks_cluster: str,
) -> None:
    policy.write(_granting(namespace))
    name = new_name()
    eks = simulator.boto3_client()
    eks.associate_identity_provider_config(  # as Terraform or another team would
        clusterName=eks_cluster,
        oidc={
            "identityProviderConfigName": name,
            "issuerUrl": "https://login.example.com",
            "clientId": "their-client",
        },
    )
    wait_for(  # as the other tool would see it: associated
        "the outside config ACTIVE",
        lambda: (
            eks.describe_identity_provider_config(
                clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
            )["identityProviderConfig"]["oidc"]["status"]
            == "ACTIVE"
        ),
        operator,
    )
    before = eks_calls(simulator, eks_cluster)
    journal = len(simulator.requests())
    # Full with the very same settings would have adopted it, tagged it as the tenant's, and
    # deleting her object would have disassociated it.
    full = manifest(name, namespace, eks_cluster, oidc={"clientId": "their-client"})
    assert cluster.apply(full).returncode == 0
    stalled = wait_for(
        "AdoptionNotPermitted",
        lambda: with_condition(cluster, namespace, name, "Stalled"),
        operator,
        timeout=40,
    )
    assert condition(stalled, "Stalled")["reason"] == "AdoptionNotPermitted"
    # A new object tries its Associate before reading (EKS refuses it: the name is taken);
    # what must not happen is the config becoming hers: no tag, no disassociation.
    taking = {"TagResource", "UntagResource", "DisassociateIdentityProviderConfig"}
    made = [c["operation"] for c in simulator.requests()[journal:]]
    assert not taking & set(made), made
    # Deleting her object leaves the config where it was.
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--timeout=60s")
    config = eks.describe_identity_provider_config(
        clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
    )["identityProviderConfig"]["oidc"]
    assert (config["status"], config.get("tags", {})) == ("ACTIVE", {})
    # Observing it tells nothing of it either (not which fields differ).
    observer = new_name()
    watch = manifest(
        observer,
        namespace,
        eks_cluster,
        managementPolicy="Observe",
        oidc={"identityProviderConfigName": name, "clientId": "mine"},
    )
    assert cluster.apply(watch).returncode == 0
    seen = wait_for(
        "AdoptionNotPermitted",
        lambda: with_condition(cluster, namespace, observer, "Stalled"),
        operator,
    )
    message = condition(seen, "Stalled")["message"]
    assert condition(seen, "Stalled")["reason"] == "AdoptionNotPermitted"
    assert "clientId" not in message
    assert "their-client" not in message
    assert eks_calls(simulator, eks_cluster) > before  # it did read, and said nothing
