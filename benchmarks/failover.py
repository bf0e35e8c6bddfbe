"""Leader failover: the leader SIGKILLed, until the standby's first reconcile pass.

Starts the local control plane, the EKS simulator and two operator processes with leader
election on and its default durations (lease 15 s, renew deadline 10 s, retry period 2 s),
then ``--runs`` times: waits for one to lead, SIGKILLs it, and measures the time until the other
logs its first reconcile pass (it finds an object it must reconcile at start: every object is
resumed when kopf starts). The killed one is started again as the next run's standby.

The bound is the lease duration plus one retry period (a standby may take the lease only a
whole lease duration after it last saw it change, and tries every retry period), plus kopf's
start-up.

Usage: ``.venv/bin/python benchmarks/failover.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import time
from pathlib import Path

from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.stack import Stack, local_stack

RECONCILED = "Handler 'reconcile' succeeded"


def _holder(stack: Stack) -> str | None:
    try:
        found = json.loads(stack.kubectl("get", "lease", "eks-oidc-operator", "-o", "json"))
    except Exception:
        return None
    identity = found["spec"].get("holderIdentity") or ""
    return identity.split("_")[0] or None


def _replica(stack: Stack, name: str, run: int) -> OperatorProcess:
    """A replica with the default schedule and election durations, and a log of its own."""
    process = OperatorProcess(
        Path(stack.plane.admin_kubeconfig),
        stack.sim.url,
        stack.workdir / f"{name}-{run}.log",
        extra_env={
            "EKS_OIDC_METRICS_PORT": "0",
            "EKS_OIDC_LEADER_ELECTION": "true",
            "EKS_OIDC_LEADER_ELECTION_NAMESPACE": "default",
            "POD_NAME": name,
        },
        fast=False,
    )
    process.start()
    return process


def _wait(what: str, probe: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not probe():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {what}")
        time.sleep(0.05)


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: list[float] = []
    with local_stack(associate_seconds=1, clusters=["bench"]) as stack:
        manifest = {
            "apiVersion": "eksoidc.io/v1alpha1",
            "kind": "OidcIdentityProvider",
            "metadata": {"name": "bench", "namespace": "default"},
            "spec": {
                "clusterName": "bench",
                "oidc": {"issuerUrl": "https://login.example.com", "clientId": "k"},
            },
        }
        stack.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
        replicas = {"a": _replica(stack, "a", 0)}
        _wait("a leads", lambda: _holder(stack) == "a")
        replicas["b"] = _replica(stack, "b", 0)
        try:
            for run in range(args.runs):
                leader = _holder(stack)
                assert leader is not None
                standby = "b" if leader == "a" else "a"
                before = replicas[standby].log().count(RECONCILED)
                killed = time.monotonic()
                replicas[leader].stop(signal.SIGKILL)
                _wait(
                    "the standby reconciles",
                    lambda s=standby, n=before: replicas[s].log().count(RECONCILED) > n,
                )
                times.append(time.monotonic() - killed)
                print(f"run {run + 1}: {standby} reconciled {times[-1]:.1f} s after {leader} died")
                replicas[leader] = _replica(stack, leader, run + 1)  # the next run's standby
        finally:
            for process in replicas.values():
                process.stop(signal.SIGKILL)
    print(
        f"failover over {len(times)} runs: min {min(times):.1f} s, median "
        f"{statistics.median(times):.1f} s, max {max(times):.1f} s "
        "(bound: lease 15 s + retry period 2 s + kopf start-up)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
