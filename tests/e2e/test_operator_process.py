"""The test harness's operator process: it starts even when a port it picked was taken."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle

pytestmark = pytest.mark.e2e


def test_an_operator_whose_liveness_port_was_taken_starts_on_fresh_ports(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path: Path,
) -> None:
    process = OperatorProcess(cluster.operator_kubeconfig, simulator.url, tmp_path / "op.log")
    taken = process.liveness_port
    with socket.socket() as holder:
        # Another process binds the port between its pick and the operator's start.
        holder.bind(("0.0.0.0", taken))  # where the operator binds it
        holder.listen()
        process.start()
        try:
            assert process.liveness_port != taken
            assert "address already in use" in process.log().lower()
        finally:
            process.stop()
