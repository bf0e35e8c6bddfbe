"""What the per-object controls cost EKS: calls of observed and paused objects over a window.

Starts the local control plane, the EKS simulator and the operator as a real process with its
shipped schedule (``--resync`` overrides the resync interval, to show the observer's reads
with many resyncs in the window), and sets up four objects, each on its own EKS cluster:

1. ``observed``: ``managementPolicy: Observe`` on a config associated outside the operator
   (through boto3, ACTIVE before the object is applied); its window starts once it is Ready;
2. ``paused-ready``: a managed object, Ready, then paused (``eksoidc.io/paused: "true"``);
3. ``paused-in-flight``: a managed object paused while its association runs (associations on
   its cluster take ``--associate-seconds``, default 120, so EKS finishes during the window);
4. ``managed``: a managed object, Ready, left alone (the comparison).

Windows start when each object reaches its state and all end together, ``--window`` seconds
after the last one started. For each it prints the EKS calls on its cluster during its window
(from the simulator's journal, by operation) and how many were mutating. Then the in-flight
object is resumed: the seconds until Ready and its Associate count (1: the pause lost nothing).

Usage: ``.venv/bin/python benchmarks/controls.py [--window 300] [--resync 600]``
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import Counter
from typing import Any

from eks_oidc_testing.stack import Stack, local_stack

NAMESPACE = "controls"
PAUSED = "eksoidc.io/paused"
MUTATING = {
    "AssociateIdentityProviderConfig",
    "DisassociateIdentityProviderConfig",
    "TagResource",
    "UntagResource",
}
TIMEOUT = 300.0


def _apply(stack: Stack, name: str, cluster: str, **spec: Any) -> None:
    body = {
        "apiVersion": "eksoidc.io/v1alpha1",
        "kind": "OidcIdentityProvider",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "clusterName": cluster,
            "oidc": {"issuerUrl": "https://login.example.com", "clientId": "k"},
            **spec,
        },
    }
    stack.kubectl("apply", "-f", "-", stdin=json.dumps(body))


def _get(stack: Stack, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        stack.kubectl("get", f"oidcidp/{name}", "-n", NAMESPACE, "-o", "json")
    )
    return found


def _true(obj: dict[str, Any], type_: str) -> bool:
    conditions = obj.get("status", {}).get("conditions", [])
    return any(c["type"] == type_ and c["status"] == "True" for c in conditions)


def _until(what: str, check: Any) -> float:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return time.time()
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def _associate_outside(stack: Stack, cluster: str, name: str) -> None:
    eks = stack.sim.boto3_client()
    eks.associate_identity_provider_config(
        clusterName=cluster,
        oidc={
            "identityProviderConfigName": name,
            "issuerUrl": "https://login.example.com",
            "clientId": "k",
        },
    )

    def active() -> bool:
        config = eks.describe_identity_provider_config(
            clusterName=cluster, identityProviderConfig={"type": "oidc", "name": name}
        )["identityProviderConfig"]["oidc"]
        return bool(config["status"] == "ACTIVE")

    _until(f"{name} ACTIVE outside the operator", active)


def _set_up(stack: Stack, associate_seconds: float) -> dict[str, float]:
    """Bring each object to its state; when each window starts (epoch seconds)."""
    for cluster in ("observed", "paused-ready", "paused-in-flight", "managed"):
        stack.sim.create_cluster(cluster, "1.33")
    stack.sim.configure(clusters={"paused-in-flight": {"associateSeconds": associate_seconds}})
    stack.kubectl("create", "namespace", NAMESPACE)
    _associate_outside(stack, "observed", "observed")
    _apply(stack, "observed", "observed", managementPolicy="Observe")
    _apply(stack, "paused-ready", "paused-ready")
    _apply(stack, "paused-in-flight", "paused-in-flight")
    _apply(stack, "managed", "managed")
    starts: dict[str, float] = {}
    _until(
        "paused-in-flight's update",
        lambda: _get(stack, "paused-in-flight").get("status", {}).get("update"),
    )
    stack.kubectl("annotate", "oidcidp/paused-in-flight", "-n", NAMESPACE, f"{PAUSED}=true")
    starts["paused-in-flight"] = _until(
        "paused-in-flight Paused", lambda: _true(_get(stack, "paused-in-flight"), "Paused")
    )
    starts["observed"] = _until("observed Ready", lambda: _true(_get(stack, "observed"), "Ready"))
    _until("paused-ready Ready", lambda: _true(_get(stack, "paused-ready"), "Ready"))
    stack.kubectl("annotate", "oidcidp/paused-ready", "-n", NAMESPACE, f"{PAUSED}=true")
    starts["paused-ready"] = _until(
        "paused-ready Paused", lambda: _true(_get(stack, "paused-ready"), "Paused")
    )
    starts["managed"] = _until("managed Ready", lambda: _true(_get(stack, "managed"), "Ready"))
    return starts


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--window", type=float, default=300.0)
    parser.add_argument("--resync", type=float, default=600.0)
    parser.add_argument("--associate-seconds", type=float, default=120.0)
    args = parser.parse_args()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    with local_stack(associate_seconds=2, disassociate_seconds=2) as stack:
        operator = stack.operator({"EKS_OIDC_RESYNC_SECONDS": str(args.resync)})
        starts = _set_up(stack, args.associate_seconds)
        time.sleep(max(0.0, max(starts.values()) + args.window - time.time()))
        end = time.time()
        journal = stack.sim.requests()
        print(
            f"operator defaults except EKS_OIDC_RESYNC_SECONDS={args.resync:g}; windows of at "
            f"least {args.window:g} s, all ending together"
        )
        failed = False
        for name, start in starts.items():
            during = Counter(
                c["operation"]
                for c in journal
                if c.get("cluster") == name and start <= c["at"] <= end
            )
            mutating = sum(n for op, n in during.items() if op in MUTATING)
            shown = ", ".join(f"{op} {n}" for op, n in sorted(during.items())) or "none"
            print(
                f"{name:17} window {end - start:5.0f} s: {sum(during.values())} EKS call(s) "
                f"({shown}); mutating {mutating}"
            )
            failed |= name != "managed" and mutating > 0
        untagged = sum(
            1 for c in journal if c.get("cluster") is None and c["at"] >= min(starts.values())
        )
        print(f"calls naming no cluster (tag calls) during the windows: {untagged}")
        resumed = time.time()
        stack.kubectl("annotate", "oidcidp/paused-in-flight", "-n", NAMESPACE, f"{PAUSED}-")
        ready = _until(
            "paused-in-flight Ready", lambda: _true(_get(stack, "paused-in-flight"), "Ready")
        )
        associates = sum(
            1
            for c in stack.sim.requests("AssociateIdentityProviderConfig")
            if c.get("cluster") == "paused-in-flight"
        )
        print(
            f"paused-in-flight resumed: Ready after {ready - resumed:.1f} s, {associates} Associate"
        )
        failed |= associates != 1
        operator.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
