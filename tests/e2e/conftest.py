"""E2E wiring for the operator: the CRD, the chart's RBAC, the EKS simulator, the operator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle, running_simulator
from tests.support.e2e_operator import running_operator


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    with running_simulator(associate_seconds=2, disassociate_seconds=2, seed=7) as sim:
        yield sim


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    with running_operator(cluster, simulator, tmp_path_factory.mktemp("operator")) as process:
        yield process


@pytest.fixture
def eks_cluster(simulator: SimulatorHandle) -> str:
    """A fresh ACTIVE EKS cluster in the simulator, one per test."""
    name = unique_name("c")
    simulator.create_cluster(name, "1.33")
    return name
