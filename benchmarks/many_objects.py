"""N objects on N clusters at once: time until all are Ready, EKS calls, operator memory.

Starts the local control plane, the EKS simulator (each association takes
``--associate-seconds``) and the operator as a real process with its default schedule, applies
N OidcIdentityProviders at once and prints: seconds from apply to all Ready, EKS calls per
object, and the operator's peak RSS (from /proc, sampled every 0.5 s).

Usage: ``.venv/bin/python benchmarks/many_objects.py [--objects 50] [--associate-seconds 30]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from eks_oidc_testing.stack import local_stack


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=50)
    parser.add_argument("--associate-seconds", type=float, default=30.0)
    args = parser.parse_args()
    clusters = [f"bench-{i}" for i in range(args.objects)]
    with local_stack(associate_seconds=args.associate_seconds, clusters=clusters) as stack:
        operator = stack.operator()
        idle_rss = peak = operator.rss_mib()
        stack.sim.reset_stats()
        items = [
            {
                "apiVersion": "eksoidc.io/v1alpha1",
                "kind": "OidcIdentityProvider",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {
                    "clusterName": name,
                    "oidc": {"issuerUrl": "https://login.example.com", "clientId": "k"},
                },
            }
            for name in clusters
        ]
        started = time.monotonic()
        stack.kubectl(
            "apply",
            "-f",
            "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}),
        )
        ready = 0
        deadline = started + args.associate_seconds * 4 + 120
        while time.monotonic() < deadline and ready < args.objects:
            peak = max(peak, operator.rss_mib())
            objects = json.loads(stack.kubectl("get", "oidcidp", "-n", "default", "-o", "json"))
            ready = sum(
                any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in o.get("status", {}).get("conditions", [])
                )
                for o in objects["items"]
            )
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        operations = stack.sim.calls_by_operation()
        calls = sum(operations.values())
        operator.stop()
        print(
            f"{args.objects} objects on {args.objects} clusters, associations of "
            f"{args.associate_seconds:.0f} s, default poll schedule"
        )
        print(f"all Ready after {elapsed:.1f} s ({ready}/{args.objects} Ready)")
        print(f"EKS calls: {calls} in all, {calls / args.objects:.1f} per object: {operations}")
        print(f"operator RSS: {idle_rss:.0f} MiB idle, {peak:.0f} MiB peak")
    return 0 if ready == args.objects else 1


if __name__ == "__main__":
    sys.exit(main())
