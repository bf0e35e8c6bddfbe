"""One association of N simulated seconds, end to end: EKS calls made, and completion lag.

Starts the local control plane, the EKS simulator (association takes ``--associate-seconds``)
and the operator as a real process with its default poll schedule (or the one given), applies
one OidcIdentityProvider, and prints:

- the EKS calls the operator made, per operation, from apply to Ready=True;
- the lag from the moment the simulator completed the update to the moment the object showed
  Ready=True (observed by polling the API server every 0.1 s, so +/- 0.1 s).

Usage: ``.venv/bin/python benchmarks/association_lag.py [--associate-seconds 60]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from eks_oidc_testing.stack import local_stack


def _ready(body: dict[str, Any]) -> bool:
    conditions = body.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--associate-seconds", type=float, default=60.0)
    parser.add_argument("--poll-initial", type=float, help="default: the shipped setting")
    parser.add_argument("--poll-max", type=float, help="default: the shipped setting")
    args = parser.parse_args()
    env = {}
    if args.poll_initial is not None:
        env["EKS_OIDC_POLL_INITIAL_SECONDS"] = str(args.poll_initial)
    if args.poll_max is not None:
        env["EKS_OIDC_POLL_MAX_SECONDS"] = str(args.poll_max)
    with local_stack(associate_seconds=args.associate_seconds, clusters=["bench"]) as stack:
        operator = stack.operator(env)
        stack.sim.reset_stats()
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
        deadline = time.monotonic() + args.associate_seconds * 3 + 60
        body: dict[str, Any] = {}
        while time.monotonic() < deadline and not _ready(body):
            time.sleep(0.1)
            body = json.loads(stack.kubectl("get", "oidcidp/bench", "-n", "default", "-o", "json"))
        ready_seen = time.time()
        operator.stop()
        created = datetime.fromisoformat(body["status"]["update"]["createdAt"]).timestamp()
        completed = created + args.associate_seconds
        per_operation = stack.sim.calls_by_operation()
        given = ", ".join(f"{k}={v}" for k, v in env.items()) or "shipped"
        print(f"association of {args.associate_seconds:.0f} s, poll schedule: {given}")
        print(f"EKS calls by the operator: {sum(per_operation.values())} {per_operation}")
        print(f"lag from EKS completion to Ready=True: {ready_seen - completed:.1f} s")
    return 0 if _ready(body) else 1


if __name__ == "__main__":
    sys.exit(main())
