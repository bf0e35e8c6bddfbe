"""``run --namespace NS``: the operator acts on its namespaces only, under the same RBAC."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.idp_objects import condition, get_object, manifest, new_name
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def test_a_namespaced_operator_ignores_other_namespaces(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    eks_cluster: str,
    make_namespace: Callable[[], str],
    namespace: str,
    tmp_path: Path,
) -> None:
    watched = make_namespace()
    operator = OperatorProcess(
        cluster.operator_kubeconfig, simulator.url, tmp_path / "operator.log", namespaces=[watched]
    )
    operator.start()
    try:
        mine, other = new_name(), new_name()
        spec = {"oidc": {"issuerUrl": "https://other.example.com"}}
        assert cluster.apply(manifest(mine, watched, eks_cluster)).returncode == 0
        assert cluster.apply(manifest(other, namespace, eks_cluster, **spec)).returncode == 0
        wait_for(
            "Ready in the watched namespace",
            lambda: condition(get_object(cluster, watched, mine), "Ready").get("status") == "True",
            operator,
        )
        time.sleep(2)  # well past the operator's first pass on anything it could see
        untouched = get_object(cluster, namespace, other)
        assert untouched is not None
        assert untouched.get("status") == {"observedGeneration": 0}  # the CRD default only
        assert "eksoidc.io/finalizer" not in untouched["metadata"].get("finalizers", [])
    finally:
        operator.stop()
    assert "forbidden" not in operator.log(), operator.log_tail()
