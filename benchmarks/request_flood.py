"""What a flood of "reconcile now" requests on one held object costs EKS.

Starts the local control plane, the EKS simulator and the operator as a real process with its
shipped schedule, makes EKS refuse one object's Associate for a limit (the simulator's
combined-size limit set to 64 bytes), so the object stalls, held, with
``ProviderLimitExceeded``; then annotates it with ``--values`` distinct
``eksoidc.io/reconcile-requested-at`` values as fast as kubectl goes, waits ``--window``
seconds, and prints the EKS calls on its cluster from the first request on (the simulator's
journal, by operation), and how many values the object's status says were answered last.

Usage: ``.venv/bin/python benchmarks/request_flood.py [--values 40] [--window 45]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from eks_oidc_testing.stack import local_stack

CLUSTER = "flood"
NAME = "held"
POLICY = {"rules": [{"name": "bench", "namespaces": ["*"], "operatorIdentity": True}]}


def _stalled_reason(raw: str) -> str | None:
    for entry in json.loads(raw).get("status", {}).get("conditions", []):
        if entry["type"] == "Stalled" and entry["status"] == "True":
            reason: str = entry["reason"]
            return reason
    return None


def main() -> int:
    """Run the flood and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=40)
    parser.add_argument("--window", type=float, default=45.0)
    args = parser.parse_args()
    with local_stack(associate_seconds=5, clusters=[CLUSTER]) as stack:
        stack.sim.configure(configSizeLimitBytes=64)
        policy = stack.workdir / "tenancy.yaml"
        policy.write_text(json.dumps(POLICY))
        operator = stack.operator({"EKS_OIDC_TENANCY_FILE": str(policy)})
        manifest = {
            "apiVersion": "eksoidc.io/v1alpha1",
            "kind": "OidcIdentityProvider",
            "metadata": {"name": NAME, "namespace": "default"},
            "spec": {
                "clusterName": CLUSTER,
                "oidc": {"issuerUrl": "https://login.example.com", "clientId": "k"},
                "issuerCheck": "Skip",
            },
        }
        stack.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
        reason = None
        deadline = time.monotonic() + 60
        while reason is None and time.monotonic() < deadline:
            time.sleep(0.2)
            reason = _stalled_reason(stack.kubectl("get", f"oidcidp/{NAME}", "-o", "json"))
        print(f"held object stalled: {reason}")
        start = len(stack.sim.requests())
        began = time.monotonic()
        for value in range(args.values):
            stack.kubectl(
                "annotate",
                "--overwrite",
                f"oidcidp/{NAME}",
                f"eksoidc.io/reconcile-requested-at=flood-{value}",
            )
        sent = time.monotonic() - began
        time.sleep(args.window)
        made = [c for c in stack.sim.requests()[start:] if c.get("cluster") == CLUSTER]
        status = json.loads(stack.kubectl("get", f"oidcidp/{NAME}", "-o", "json"))["status"]
        operator.stop()
    by_operation = Counter(c["operation"] for c in made)
    print(
        f"{args.values} request values in {sent:.1f} s, then {args.window:.0f} s: "
        f"{len(made)} EKS calls ({dict(sorted(by_operation.items()))}); last answered "
        f"{status.get('lastHandledReconcileAt')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
