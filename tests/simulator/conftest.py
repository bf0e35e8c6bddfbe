"""Fixtures for the simulator's own tests.

One simulator process serves the whole session (starting one costs about a second); each
test gets it reset (no clusters, faults, counters or config changes) and with a *manual*
clock, so simulated time moves only when a test calls ``advance`` - no test ever sleeps
and no assertion races the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from eks_oidc_testing.simulator import SimulatorHandle, running_simulator

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient


@pytest.fixture(scope="session")
def simulator_process() -> Iterator[SimulatorHandle]:
    """The shared simulator process."""
    with running_simulator(manual_clock=True, seed=7) as handle:
        yield handle


@pytest.fixture
def sim(simulator_process: SimulatorHandle) -> SimulatorHandle:
    """The shared simulator, reset for this test."""
    simulator_process.reset()
    return simulator_process


@pytest.fixture
def eks(sim: SimulatorHandle) -> EKSClient:
    """A boto3 EKS client for the reset simulator (botocore's default retry settings)."""
    return sim.boto3_client()
