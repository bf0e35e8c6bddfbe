"""The simulator handle under its old name, for the modules that still import it from here.

It lives in ``eks_oidc_testing.simulator`` (``hack/testing``); import it from there. This
re-export goes away once ``tests/simulator/`` and ``docs/simulator.md`` name the new module.
"""

from __future__ import annotations

from eks_oidc_testing.simulator import (
    SimulatorError,
    SimulatorHandle,
    oidc_request,
    running_simulator,
    simulator_argv,
)

__all__ = [
    "SimulatorError",
    "SimulatorHandle",
    "oidc_request",
    "running_simulator",
    "simulator_argv",
]
