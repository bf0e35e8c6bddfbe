"""The operator's EKS call rate per account and region, end to end: a burst of objects applied
at once against a simulator that throttles the account like EKS does (a token bucket; its
numbers here are the test's, chosen so that an unpaced operator is throttled at once) is
spread out by the operator, and EKS never throttles it.

A real kube-apiserver, the EKS simulator over HTTP, and an operator process of this module's own
paced at 2 calls a second after a burst of 4.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.e2e_operator import running_operator
from tests.support.idp_objects import manifest, new_name, with_condition
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

BURST, PER_SECOND = 4, 2.0
"""The operator's pacing."""
SIMULATED_ACCOUNT = {"perSecond": 3.0, "burst": 10}
"""What the simulator's account allows: more than the operator's pacing (two of its bursts at
once, then its rate), far less than an unpaced burst of these objects asks (about five calls
each, within a few seconds)."""


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    simulator.configure(accountRate=SIMULATED_ACCOUNT)
    env = {
        "EKS_OIDC_AWS_CALL_BURST": str(BURST),
        "EKS_OIDC_AWS_CALLS_PER_SECOND": str(PER_SECOND),
    }
    folder = tmp_path_factory.mktemp("aws-call-rate")
    with running_operator(cluster, simulator, folder, env) as process:
        yield process


def test_a_burst_of_objects_is_paced_below_the_accounts_throttling(
    cluster: Cluster, namespace: str, operator: OperatorProcess, simulator: SimulatorHandle
) -> None:
    objects = []
    for _ in range(8):
        eks_cluster = unique_name("c")
        simulator.create_cluster(eks_cluster, "1.33")
        objects.append(manifest(new_name(), namespace, eks_cluster))
    first = len(simulator.requests())
    assert cluster.apply({"apiVersion": "v1", "kind": "List", "items": objects}).returncode == 0
    for item in objects:
        name = item["metadata"]["name"]
        wait_for(
            "Ready", functools.partial(with_condition, cluster, namespace, name, "Ready"), operator
        )

    calls = simulator.requests()[first:]
    throttled = [call for call in calls if call["status"] == 429]
    assert throttled == [], throttled
    # Paced: in no stretch of time did the operator call much more than its refill. Slack of
    # three bursts: the burst itself, the debt a pass's later calls may run into (later passes
    # wait it out), and passes admitted on time whose first call a busy machine delayed until
    # the next ones'. An unpaced operator makes all of these calls within a few seconds.
    times = sorted(call["at"] for call in calls)
    assert len(times) >= 4 * len(objects)
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            allowed = 3 * BURST + PER_SECOND * (times[j] - start)
            assert j - i + 1 <= allowed, (j - i + 1, times[j] - start)
