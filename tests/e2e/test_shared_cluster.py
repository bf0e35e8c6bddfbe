"""A management cluster shared by teams, end to end: one owner per EKS config, the admin's
tenancy policy, and refusals that stay stopped (no EKS calls after the first).

A real kube-apiserver, the EKS simulator over HTTP, and an operator process of this module's own,
started with a tenancy policy file.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import (
    condition,
    events_of,
    get_object,
    manifest,
    new_name,
    with_condition,
)
from tests.support.simulator_calls import calls, eks_calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::111111111111:role/eks-oidc-operator-team-a"
POLICY = {
    "rules": [
        {"name": "everyone", "namespaces": ["*"], "operatorIdentity": True},
        {"name": "team-a", "namespaces": ["team-a-*"], "roleArns": [ROLE]},
    ]
}


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    folder = tmp_path_factory.mktemp("shared")
    # A hold lasts the slow retry cap: long enough here to see that nothing is called.
    env = {"EKS_OIDC_SLOW_RETRY_MAX_SECONDS": "30"}
    with running_operator(cluster, simulator, folder, env, tenancy=POLICY) as process:
        yield process


def _stalled(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    return with_condition(cluster, namespace, name, "Stalled")


def _ready(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    return with_condition(cluster, namespace, name, "Ready")


def _failed_and_retrying(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    """The object once it reports its failed update as progress (Reconciling, EKS's code)."""
    obj = with_condition(cluster, namespace, name, "Reconciling")
    if (
        obj is None
        or condition(obj, "Reconciling").get("reason") != "UpdateFailedClusterUnreachable"
    ):
        return None
    return obj


def _quiet_for(simulator: SimulatorHandle, cluster: str, seconds: float) -> int:
    """The EKS calls made on ``cluster`` during ``seconds`` (several resyncs in these tests)."""
    before = eks_calls(simulator, cluster)
    time.sleep(seconds)
    return eks_calls(simulator, cluster) - before


def _tags(simulator: SimulatorHandle, cluster: str, name: str) -> dict[str, str]:
    found = simulator.boto3_client().describe_identity_provider_config(
        clusterName=cluster, identityProviderConfig={"type": "oidc", "name": name}
    )
    tags: dict[str, str] = found["identityProviderConfig"]["oidc"].get("tags", {})
    return tags


@pytest.mark.parametrize(
    ("first", "restart"),
    [("a", False), ("b", False), ("a", True), ("b", True)],
    ids=["a-then-b", "b-then-a", "a-restart-b", "b-restart-a"],
)
def test_two_namespaces_one_config_name_the_first_keeps_it_the_second_stalls(
    cluster: Cluster,
    make_namespace: Any,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
    first: str,
    restart: bool,
) -> None:
    spaces = {"a": make_namespace(), "b": make_namespace()}
    second = "b" if first == "a" else "a"
    config = {"identityProviderConfigName": "corp"}
    name = new_name()
    applied = cluster.apply(manifest(name, spaces[first], eks_cluster, oidc=config))
    assert applied.returncode == 0
    wait_for("first Ready", lambda: _ready(cluster, spaces[first], name), operator)
    if restart:
        operator.stop()
    other = cluster.apply(
        manifest(
            name, spaces[second], eks_cluster, oidc={**config, "issuerUrl": "https://b.example.com"}
        )
    )
    assert other.returncode == 0
    if restart:
        operator.start()
    stalled = wait_for("second Stalled", lambda: _stalled(cluster, spaces[second], name), operator)
    reason = condition(stalled, "Stalled")
    assert reason["reason"] == "ConfigOwnedByAnother"
    assert f"{spaces[first]}/{name}" in reason["message"]
    assert ("Warning", "ConfigOwnedByAnother") in [
        (t, r) for t, r, _ in events_of(cluster, spaces[second], name)
    ]
    # The owner is untouched: one association, its issuer, its tag; no replacement.
    assert _ready(cluster, spaces[first], name) is not None
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 0
    assert _tags(simulator, eks_cluster, "corp")["eksoidc.io/owner"] == f"{spaces[first]}/{name}"
    # Deleting the second leaves the first's config in place.
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", spaces[second], "--timeout=60s")
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 0
    assert _ready(cluster, spaces[first], name) is not None


def test_an_object_stalled_on_another_owners_config_makes_no_eks_calls(
    cluster: Cluster,
    make_namespace: Any,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    owner_space, other_space = make_namespace(), make_namespace()
    name = new_name()
    owner = manifest(name, owner_space, eks_cluster, deletionPolicy="Retain")
    assert cluster.apply(owner).returncode == 0
    wait_for("owner Ready", lambda: _ready(cluster, owner_space, name), operator)
    assert cluster.apply(manifest(name, other_space, eks_cluster)).returncode == 0
    wait_for("Stalled", lambda: _stalled(cluster, other_space, name), operator)
    # The owner goes (its config stays, still tagged as its own): the stalled object is the
    # only one left on the cluster, and over several resyncs it calls nothing.
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", owner_space, "--timeout=30s")
    # With the older object gone, one look at EKS finds the owner tag, and the object is held.
    wait_for(
        "held on the owner tag",
        lambda: (get_object(cluster, other_space, name) or {}).get("status", {}).get("hold"),
        operator,
    )
    assert _quiet_for(simulator, eks_cluster, 5) == 0


def test_a_namespace_not_permitted_a_role_is_refused_before_any_aws_call(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster, roleArn=ROLE)).returncode == 0
    stalled = wait_for("NotPermitted", lambda: _stalled(cluster, namespace, name), operator)
    message = condition(stalled, "Stalled")["message"]
    assert condition(stalled, "Stalled")["reason"] == "NotPermitted"
    assert "rule everyone does not grant" in message
    assert ROLE in message
    assert eks_calls(simulator, eks_cluster) == 0
    # It never reached EKS, so deleting it is immediate.
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--timeout=30s")
    assert get_object(cluster, namespace, name) is None
    assert eks_calls(simulator, eks_cluster) == 0


def test_the_provider_limit_of_a_1_31_cluster_stalls_with_nothing_sent(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
) -> None:
    eks_cluster = f"old-{new_name()}"
    simulator.create_cluster(eks_cluster, "1.31")
    eks = simulator.boto3_client()
    eks.associate_identity_provider_config(
        clusterName=eks_cluster,
        oidc={
            "identityProviderConfigName": "okta",
            "issuerUrl": "https://okta.example.com",
            "clientId": "k",
        },
    )
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    stalled = wait_for("ProviderLimitReached", lambda: _stalled(cluster, namespace, name), operator)
    assert condition(stalled, "Stalled")["reason"] == "ProviderLimitReached"
    assert "okta" in condition(stalled, "Stalled")["message"]
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1  # ours: none
    assert _quiet_for(simulator, eks_cluster, 4) == 0


def test_a_failed_disassociation_stalls_the_deleting_object_then_is_retried(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
    wait_for("Ready", lambda: _ready(cluster, namespace, name), operator)
    simulator.faults(
        {"kind": "fail-disassociation", "cluster": eks_cluster, "errorCode": "ClusterUnreachable"}
    )
    cluster.kubectl("delete", f"oidcidp/{name}", "-n", namespace, "--wait=false")
    failed = wait_for(
        "the failed disassociation reported",
        lambda: _failed_and_retrying(cluster, namespace, name),
        operator,
    )
    # An automatic retry remains: progress with EKS's code, not Stalled (health does not flap).
    assert condition(failed, "Stalled")["status"] == "False"
    assert "automatic retry 1 of 3" in condition(failed, "Ready")["message"]
    assert failed["metadata"]["finalizers"] == ["eksoidc.io/finalizer"]
    # The automatic retry (a new token, so a new call) disassociates; the object goes.
    wait_for(
        "object gone", lambda: get_object(cluster, namespace, name) is None, operator, timeout=60
    )
    assert calls(simulator, "DisassociateIdentityProviderConfig", eks_cluster) == 2
    assert "Retrying" in [r for _, r, _ in events_of(cluster, namespace, name)]


def test_a_long_client_request_token_still_replaces_after_an_issuer_change(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    name = new_name()
    body = manifest(name, namespace, eks_cluster, clientRequestToken="t" * 60)
    assert cluster.apply(body).returncode == 0
    wait_for("Ready", lambda: _ready(cluster, namespace, name), operator)
    body["spec"]["oidc"]["issuerUrl"] = "https://new.example.com"
    assert cluster.apply(body).returncode == 0

    def replaced() -> dict[str, Any] | None:
        obj = _ready(cluster, namespace, name)
        return obj if obj and obj["status"]["observedGeneration"] == 2 else None

    done = wait_for("Ready with the new issuer", replaced, operator)
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 2
    # Made before the old one was removed, under the new settings' derived name.
    target = done["status"]["identityProviderConfigName"]
    assert target.startswith(f"{name}-")
    found = simulator.boto3_client().describe_identity_provider_config(
        clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": target}
    )
    assert found["identityProviderConfig"]["oidc"]["issuerUrl"] == "https://new.example.com"


def test_two_objects_applied_while_the_operator_is_down_the_older_goes_first(
    cluster: Cluster,
    make_namespace: Any,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    older_space, younger_space = make_namespace(), make_namespace()
    name = new_name()
    config = {"identityProviderConfigName": "corp"}
    operator.stop()
    try:
        assert cluster.apply(manifest(name, older_space, eks_cluster, oidc=config)).returncode == 0
        time.sleep(1.1)  # creationTimestamp has whole seconds
        younger = manifest(
            name, younger_space, eks_cluster, oidc={**config, "issuerUrl": "https://b.example.com"}
        )
        assert cluster.apply(younger).returncode == 0
    finally:
        operator.start()
    wait_for("older Ready", lambda: _ready(cluster, older_space, name), operator)
    stalled = wait_for("younger Stalled", lambda: _stalled(cluster, younger_space, name), operator)
    assert condition(stalled, "Stalled")["reason"] == "ConfigOwnedByAnother"
    assert f"{older_space}/{name}" in condition(stalled, "Stalled")["message"]
    assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1
    assert _tags(simulator, eks_cluster, "corp")["eksoidc.io/owner"] == f"{older_space}/{name}"


def test_a_limit_eks_refuses_on_an_active_cluster_stalls_after_one_associate(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    # The combined-size limit: nothing counts it before the call, so EKS's refusal is the news.
    simulator.configure(configSizeLimitBytes=64)
    try:
        name = new_name()
        assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
        stalled = wait_for("Stalled", lambda: _stalled(cluster, namespace, name), operator)
        assert condition(stalled, "Stalled")["reason"] == "ProviderLimitExceeded"
        assert "combined size" in condition(stalled, "Stalled")["message"]
        assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1
        assert _quiet_for(simulator, eks_cluster, 4) == 0
    finally:
        simulator.configure(configSizeLimitBytes=12 * 1024)


def test_two_objects_on_one_config_created_in_the_same_second_make_one_associate(
    cluster: Cluster,
    make_namespace: Any,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
) -> None:
    """Applied together (one kubectl call, the same creation second): the younger makes no
    call. The one the watch brought first used to associate at once and the other, older by
    its uid, associated too, refused by EKS: about half the time. Four pairs, one Associate
    each."""
    for _ in range(4):
        eks_cluster = unique_name("c")
        simulator.create_cluster(eks_cluster, "1.33")
        spaces = [make_namespace(), make_namespace()]
        name = new_name()
        both = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                manifest(name, space, eks_cluster, oidc={"identityProviderConfigName": "corp"})
                for space in spaces
            ],
        }
        assert cluster.apply(both).returncode == 0
        wait_for(
            "one Ready, one Stalled", functools.partial(_settled, cluster, spaces, name), operator
        )
        assert calls(simulator, "AssociateIdentityProviderConfig", eks_cluster) == 1


def _settled(cluster: Cluster, spaces: list[str], name: str) -> bool | None:
    """One of the same-named objects Ready and the other Stalled (else None)."""
    ready = any(_ready(cluster, space, name) for space in spaces)
    return (ready and any(_stalled(cluster, space, name) for space in spaces)) or None
