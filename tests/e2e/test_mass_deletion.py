"""The mass-deletion guard end to end: deleting every object at once disassociates only the
guard's budget; the rest wait, finalizer held and sign-in kept, saying how to let them through;
a confirmed one goes at once, and one set to Retain is released keeping its config.

A real kube-apiserver, the EKS simulator over HTTP, and an operator process of this module's
own with a budget of 2 disassociations per 10 minutes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import condition, get_object, manifest, new_name, with_condition
from tests.support.simulator_calls import calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

BUDGET = 2


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    env = {"EKS_OIDC_DELETION_BUDGET": str(BUDGET), "EKS_OIDC_DELETION_WINDOW_SECONDS": "600"}
    folder = tmp_path_factory.mktemp("mass-deletion")
    with running_operator(cluster, simulator, folder, env) as process:
        yield process


def test_deleting_everything_at_once_cuts_sign_in_on_the_budget_only(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
) -> None:
    objects = []
    for _ in range(5):  # one cluster each, as a fleet is spread
        eks_cluster = unique_name("c")
        simulator.create_cluster(eks_cluster, "1.33")
        name = new_name()
        assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
        objects.append((name, eks_cluster))
    for name, _ in objects:
        wait_for(
            "Ready", functools.partial(with_condition, cluster, namespace, name, "Ready"), operator
        )

    # The accident: every object of the namespace deleted at once.
    cluster.kubectl("delete", "oidcidp", "--all", "-n", namespace, "--wait=false")

    def gone() -> list[str]:
        return [name for name, _ in objects if get_object(cluster, namespace, name) is None]

    def held() -> list[str]:
        return [
            name
            for name, _ in objects
            if (found := get_object(cluster, namespace, name)) is not None
            and any(
                c.get("reason") == "DeletionHeld" for c in found["status"].get("conditions", [])
            )
        ]

    wait_for(
        "two released, three held",
        lambda: (len(gone()) == BUDGET and len(held()) == 3) or None,
        operator,
    )
    disassociated = sum(
        calls(simulator, "DisassociateIdentityProviderConfig", c) for _, c in objects
    )
    assert disassociated == BUDGET
    waiting = held()
    body = get_object(cluster, namespace, waiting[0])
    assert body is not None
    message = condition(body, "Ready")["message"]
    assert constants.DELETION_CONFIRMED_ANNOTATION in message
    # The held ones keep their configs ACTIVE: sign-in through them still works.
    for name, eks_cluster in objects:
        if name in waiting:
            config = simulator.boto3_client().describe_identity_provider_config(
                clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
            )["identityProviderConfig"]["oidc"]
            assert config["status"] == "ACTIVE"

    # Confirmed: that one goes at once, the window notwithstanding.
    confirmed = waiting[0]
    cluster.kubectl(
        "annotate",
        f"oidcidp/{confirmed}",
        "-n",
        namespace,
        f"{constants.DELETION_CONFIRMED_ANNOTATION}=true",
    )
    wait_for("the confirmed one released", lambda: confirmed in gone() or None, operator)
    # Retain: released without disassociating; the config stays for the owner to re-adopt.
    kept = waiting[1]
    cluster.kubectl(
        "patch",
        f"oidcidp/{kept}",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"spec": {"deletionPolicy": "Retain"}}',
    )
    wait_for("the retained one released", lambda: kept in gone() or None, operator)
    assert waiting[2] in held(), "the last one still waits for the window"
    total = sum(calls(simulator, "DisassociateIdentityProviderConfig", c) for _, c in objects)
    assert total == BUDGET + 1
