"""Objects queued on one cluster, end to end: waiting costs no EKS call, each update starts as
soon as the one before it ends, and the queue keeps creation order.

A real kube-apiserver, the EKS simulator over HTTP (2-second associations), and an operator
process of this module's own, whose resync is slow enough that every call counted here belongs
to the queue's work.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import get_object, manifest, with_condition
from tests.support.simulator_calls import calls
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

OBJECTS = 4
HAND_OVER_S = 2.0
"""The most one update may start after the one before it ended on the same cluster: the poll
that sees the end (at most 1 s apart with the tests' schedule) plus one pass."""


@pytest.fixture(scope="module")
def queue_operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    folder = tmp_path_factory.mktemp("queue-operator")
    env = {"EKS_OIDC_RESYNC_SECONDS": "600"}
    with running_operator(cluster, simulator, folder, env=env) as process:
        yield process


def _updates(simulator: SimulatorHandle, eks_cluster: str) -> list[dict[str, Any]]:
    state = simulator.call("GET", "/_sim/state")
    ours = next(c for c in state["clusters"] if c["name"] == eks_cluster)
    return sorted(ours.get("updates", {}).values(), key=lambda u: u["created_at"])


def test_objects_on_one_cluster_wait_for_free_and_go_in_turn(
    cluster: Cluster,
    namespace: str,
    queue_operator: OperatorProcess,
    simulator: SimulatorHandle,
    eks_cluster: str,
) -> None:
    names = [f"queued-{i}" for i in range(OBJECTS)]
    items = [
        manifest(name, namespace, eks_cluster, oidc={"issuerUrl": f"https://{name}.example.com"})
        for name in names
    ]
    listing = {"apiVersion": "v1", "kind": "List", "items": items}
    assert cluster.apply(listing).returncode == 0
    wait_for(
        "all Ready",
        lambda: all(with_condition(cluster, namespace, name, "Ready") for name in names),
        queue_operator,
        timeout=60,
    )
    # One association per object, none refused: the queue kept them from colliding in EKS.
    associates = [
        c["status"]
        for c in simulator.requests("AssociateIdentityProviderConfig")
        if c.get("cluster") == eks_cluster
    ]
    assert associates == [200] * OBJECTS
    # Waiting cost nothing: each object described its config once (ACTIVE after its update; a
    # new object's config is presumed absent before its Associate), the cluster was described
    # once for all of them, and nothing else but the running update's polls was asked.
    assert calls(simulator, "DescribeIdentityProviderConfig", eks_cluster) == OBJECTS
    assert calls(simulator, "DescribeCluster", eks_cluster) == 1
    others = {
        c["operation"]
        for c in simulator.requests()
        if c.get("cluster") == eks_cluster
        and c["operation"]
        not in (
            "AssociateIdentityProviderConfig",
            "DescribeIdentityProviderConfig",
            "DescribeCluster",
            "DescribeUpdate",
        )
    }
    assert others == set()
    updates = _updates(simulator, eks_cluster)
    assert len(updates) == OBJECTS
    # The gate woke the next object when an update ended: no retry timer in between.
    for before, after in itertools.pairwise(updates):
        assert after["created_at"] - before["completes_at"] < HAND_OVER_S, (before, after)
    # After the first (whichever pass reached the free cluster first), in creation order.
    bodies = {name: get_object(cluster, namespace, name) or {} for name in names}
    order = [u["config_name"] for u in updates]
    waited = sorted(
        order[1:], key=lambda n: (bodies[n]["metadata"]["creationTimestamp"], namespace, n)
    )
    assert order[1:] == waited
    # Each waiting object recorded since when it waited, and forgot it once its turn came.
    for name in names:
        assert "queuedSince" not in bodies[name]["status"]
