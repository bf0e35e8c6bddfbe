"""A change of spec.oidc on a Ready object, end to end: outage, EKS calls, time to Ready.

Starts the local control plane, the EKS simulator (associations and disassociations take
``--associate-seconds``) and the operator as a real process with its default schedule, applies
one OidcIdentityProvider on a cluster of each ``--versions`` entry, waits until it is Ready,
then changes its issuer URL and prints, per cluster version:

- the longest window in which the cluster had no ACTIVE config owned by the object (sampled
  every 0.1 s through the simulator's ``/_sim/state``, which is not an EKS call);
- the EKS calls the operator made from the spec change to Ready, per operation (the
  simulator's own counts);
- the time from the spec change to Ready=True at the new generation.

On 1.33 the operator makes the new config before it breaks the old one (target: 0 s without
an ACTIVE config); on 1.31 EKS holds one config, so the replacement deletes first.

Usage: ``.venv/bin/python benchmarks/replacement.py [--associate-seconds 60]``
(``--versions 1.33,1.31`` by default)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from eks_oidc_testing.sampling import ConfigSampler
from eks_oidc_testing.stack import Stack, local_stack


def _ready_at(stack: Stack, name: str, generation: int) -> bool:
    body = json.loads(stack.kubectl("get", f"oidcidp/{name}", "-n", "default", "-o", "json"))
    status: dict[str, Any] = body.get("status", {})
    ready = any(
        c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
    )
    return ready and status.get("observedGeneration") == generation


def _wait(stack: Stack, name: str, generation: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _ready_at(stack, name, generation):
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} not Ready at generation {generation} after {timeout:.0f} s")
        time.sleep(0.2)


def _manifest(name: str, cluster: str, issuer: str) -> str:
    return json.dumps(
        {
            "apiVersion": "eksoidc.io/v1alpha1",
            "kind": "OidcIdentityProvider",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"clusterName": cluster, "oidc": {"issuerUrl": issuer, "clientId": "k"}},
        }
    )


def _one(stack: Stack, version: str, seconds: float) -> None:
    cluster = f"bench-{version.replace('.', '-')}"
    name = f"replace-{version.replace('.', '-')}"
    stack.sim.create_cluster(cluster, version)
    stack.kubectl("apply", "-f", "-", stdin=_manifest(name, cluster, "https://login.example.com"))
    _wait(stack, name, 1, seconds * 3 + 60)
    stack.sim.reset_stats()
    sampler = ConfigSampler(stack.sim, cluster, interval=0.1)
    with sampler.running():
        changed = time.monotonic()
        stack.kubectl(
            "apply", "-f", "-", stdin=_manifest(name, cluster, "https://login.new.example.com")
        )
        _wait(stack, name, 2, seconds * 5 + 120)
        ready = time.monotonic()
    per_operation = stack.sim.calls_by_operation()
    gap = sampler.longest_gap(f"default/{name}")
    print(f"Kubernetes {version}, associations and disassociations of {seconds:.0f} s:")
    print(f"  longest window with no ACTIVE config: {gap:.1f} s")
    print(f"  EKS calls, spec change -> Ready: {sum(per_operation.values())} {per_operation}")
    print(f"  spec change -> Ready: {ready - changed:.1f} s")


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--associate-seconds", type=float, default=60.0)
    parser.add_argument("--versions", default="1.33,1.31")
    args = parser.parse_args()
    seconds = args.associate_seconds
    with local_stack(associate_seconds=seconds, disassociate_seconds=seconds) as stack:
        operator = stack.operator()
        try:
            for version in args.versions.split(","):
                _one(stack, version.strip(), seconds)
        finally:
            operator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
