"""A cross-account ``spec.roleArn``, end to end: the operator assumes the role through STS (the
simulator's), signs its EKS calls with the role's credentials, and stops cleanly when STS
refuses.

A real kube-apiserver, the simulator serving EKS and STS on one port, and an operator process of
this module's own with a tenancy file that grants every namespace the roles
``eks-oidc-operator-*`` with an ``externalId``. The simulator's trust policy requires that
external id, so a wrong one would fail as it would in AWS. Every assertion about STS reads the
simulator's journal: the AssumeRole calls that reached it, and the role session that signed
each EKS call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import condition, get_object, manifest, new_name, with_condition
from tests.support.simulator_calls import calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROLES = "arn:aws:iam::*:role/eks-oidc-operator-*"
EXTERNAL_ID = "e2e-assume-7f3c"
POLICY = {
    "rules": [
        {
            "name": "cross-account",
            "namespaces": ["*"],
            "roleArns": [ROLES],
            "externalId": EXTERNAL_ID,
        }
    ]
}
DISASSOCIATE = "DisassociateIdentityProviderConfig"


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    folder = tmp_path_factory.mktemp("assume-role")
    with running_operator(cluster, simulator, folder, tenancy=POLICY) as process:
        yield process


@pytest.fixture(autouse=True)
def trust_policy(simulator: SimulatorHandle) -> Iterator[None]:
    """The roles trust the operator only with the rule's external id, as their trust policies
    would; a test's own refusals go with it at the end."""
    simulator.faults({"kind": "require-external-id", "roleArn": ROLES, "externalId": EXTERNAL_ID})
    yield
    simulator.clear_faults()


def _role(tag: str) -> str:
    """A role of its own per test (in another account than the simulator's), granted by the
    policy: one test's denial never touches another's role."""
    return f"arn:aws:iam::111111111111:role/eks-oidc-operator-{tag}-{new_name()}"


def _session(namespace: str, name: str) -> str:
    return f"eks-oidc.{namespace}.{name}"


def _assumed(simulator: SimulatorHandle, session: str) -> list[dict[str, Any]]:
    """The AssumeRole calls that reached STS for one object (its session name says which)."""
    return [c for c in simulator.requests("AssumeRole") if c["role_session_name"] == session]


def _eks_calls(simulator: SimulatorHandle, cluster: str) -> list[dict[str, Any]]:
    return [c for c in simulator.requests() if c.get("cluster") == cluster]


def _patch_retain(cluster: Cluster, namespace: str, name: str) -> None:
    """``kubectl patch`` to ``deletionPolicy: Retain``, as docs/errors.md tells users to."""
    patched = cluster.kubectl(
        "patch",
        f"oidcidp/{name}",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"deletionPolicy": "Retain"}}),
        check=False,
    )
    assert patched.returncode == 0, patched.stderr


def test_a_permitted_role_is_assumed_with_the_rules_external_id_and_signs_every_eks_call(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    role, name = _role("ready"), new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster, roleArn=role)).returncode == 0
    wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    session = _session(namespace, name)
    # One client per object, its credentials good for an hour: one AssumeRole, exactly.
    assert [
        (c["status"], c["role_arn"], c["external_id"]) for c in _assumed(simulator, session)
    ] == [(200, role, EXTERNAL_ID)]
    # The calls on the cluster are the role's, not the operator's own credentials.
    on_cluster = _eks_calls(simulator, eks_cluster)
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1
    assert {(c["role_arn"], c["role_session_name"]) for c in on_cluster} == {(role, session)}
    assert all(c["access_key_id"].startswith("ASIA") for c in on_cluster)
    # Deleting it disassociates as the role too. (Waited for here, so no later module's
    # operator, which grants no roles, inherits a deleting object it may not finalize.)
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--timeout=60s")
    disassociations = [
        c for c in _eks_calls(simulator, eks_cluster) if c["operation"] == DISASSOCIATE
    ]
    assert [(c["role_arn"], c["role_session_name"]) for c in disassociations] == [(role, session)]
    assert len(_assumed(simulator, session)) == 1  # the same credentials all along


def test_a_role_sts_refuses_stalls_with_access_denied_and_no_eks_call(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    role, name = _role("refused"), new_name()
    simulator.faults({"kind": "deny-assume-role", "roleArn": role})
    assert cluster.apply(manifest(name, namespace, eks_cluster, roleArn=role)).returncode == 0
    stalled = wait_for(
        "Stalled", lambda: with_condition(cluster, namespace, name, "Stalled"), operator
    )
    reason = condition(stalled, "Stalled")
    assert reason["reason"] == "AccessDenied"
    assert f"AssumeRole of {role} failed" in reason["message"]
    assert "not authorized to perform: sts:AssumeRole" in reason["message"]
    assumed = _assumed(simulator, _session(namespace, name))
    assert assumed
    assert {(c["status"], c["role_arn"], c["external_id"]) for c in assumed} == {
        (403, role, EXTERNAL_ID)
    }
    assert _eks_calls(simulator, eks_cluster) == []
    # Stalled means retried rarely: a few seconds on, still nothing sent to EKS.
    time.sleep(3)
    assert _eks_calls(simulator, eks_cluster) == []
    # Cleaned up the documented way, agnostic of whether a deletion of an object that never
    # reached EKS waits for the role (today it does, unlike a NotPermitted one).
    _patch_retain(cluster, namespace, name)
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--timeout=60s")
    assert _eks_calls(simulator, eks_cluster) == []


def test_a_role_refused_after_its_credentials_were_issued_keeps_working_until_they_expire(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    """As in AWS: revoking trust stops new sessions, not the one the running operator holds
    (botocore refreshes it only in its last 15 minutes). Deleting disassociates as usual."""
    role, name = _role("revoked-later"), new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster, roleArn=role)).returncode == 0
    wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    before = len(_assumed(simulator, _session(namespace, name)))
    simulator.faults({"kind": "deny-assume-role", "roleArn": role})
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--timeout=60s")
    assert calls(simulator, DISASSOCIATE, eks_cluster) == 1
    assert len(_assumed(simulator, _session(namespace, name))) == before


def test_deleting_an_object_whose_role_sts_now_refuses_waits_until_retain_releases_it(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    role, name = _role("revoked"), new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster, roleArn=role)).returncode == 0
    wait_for("Ready", lambda: with_condition(cluster, namespace, name, "Ready"), operator)
    # A running operator holds the role's credentials for their hour (the test above): the
    # refusal bites on the next AssumeRole, the first after a restart.
    operator.stop()
    try:
        simulator.faults({"kind": "deny-assume-role", "roleArn": role})
        cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--wait=false")
    finally:
        operator.start()
    stalled = wait_for(
        "Stalled on delete", lambda: with_condition(cluster, namespace, name, "Stalled"), operator
    )
    reason = condition(stalled, "Stalled")
    assert reason["reason"] == "AccessDenied"
    assert f"AssumeRole of {role} failed" in reason["message"]
    assert stalled["metadata"]["finalizers"] == ["eksoidc.io/finalizer"]
    assert stalled["metadata"].get("deletionTimestamp")
    assert 403 in {c["status"] for c in _assumed(simulator, _session(namespace, name))}
    assert calls(simulator, DISASSOCIATE, eks_cluster) == 0
    # The documented way out (docs/errors.md): Retain releases it without any AWS call.
    _patch_retain(cluster, namespace, name)
    wait_for("released", lambda: get_object(cluster, namespace, name) is None, operator)
    assert calls(simulator, DISASSOCIATE, eks_cluster) == 0
    # Left in EKS, to remove by hand.
    found = simulator.boto3_client().describe_identity_provider_config(
        clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
    )
    assert found["identityProviderConfig"]["oidc"]["status"] == "ACTIVE"
