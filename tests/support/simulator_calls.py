"""Counting the EKS calls the simulator has seen."""

from __future__ import annotations

from eks_oidc_testing.simulator import SimulatorHandle


def eks_calls(simulator: SimulatorHandle, cluster: str) -> int:
    """Every EKS call the simulator has seen on ``cluster``."""
    return sum(1 for call in simulator.requests() if call.get("cluster") == cluster)


def calls(simulator: SimulatorHandle, operation: str, cluster: str) -> int:
    """How many calls of ``operation`` on ``cluster`` the simulator has seen."""
    return sum(1 for call in simulator.requests(operation) if call.get("cluster") == cluster)
