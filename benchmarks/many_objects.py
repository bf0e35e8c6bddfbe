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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "hack" / "controlplane")]

import controlplane  # noqa: E402
from tests.support.eks_simulator import running_simulator  # noqa: E402
from tests.support.operator import OperatorProcess  # noqa: E402


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=50)
    parser.add_argument("--associate-seconds", type=float, default=30.0)
    args = parser.parse_args()
    binaries = controlplane.bin_dir()
    kubectl = str(binaries / "kubectl")
    clusters = [f"bench-{i}" for i in range(args.objects)]
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        controlplane.running(Path(tmp) / "cp", binaries=binaries) as plane,
        running_simulator(associate_seconds=args.associate_seconds, clusters=clusters) as sim,
    ):
        admin = ["--kubeconfig", plane.admin_kubeconfig]
        crd = REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml"
        subprocess.run(
            [kubectl, *admin, "apply", "--server-side", "-f", str(crd)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                kubectl,
                *admin,
                "wait",
                "--for=condition=Established",
                "crd/oidcidentityproviders.eksoidc.io",
            ],
            check=True,
            capture_output=True,
        )
        operator = OperatorProcess(
            Path(plane.admin_kubeconfig),
            sim.url,
            Path(tmp) / "op.log",
            extra_env={"EKS_OIDC_METRICS_PORT": "0"},
            fast=False,  # the operator's own default schedule, not the tests' scaled one
        )
        operator.start()
        assert operator.process is not None
        pid = operator.process.pid
        idle_rss = _rss_mib(pid)
        sim.reset_stats()
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
        subprocess.run(
            [kubectl, *admin, "apply", "-f", "-"],
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}),
            text=True,
            check=True,
            capture_output=True,
        )
        peak = idle_rss
        ready = 0
        deadline = started + args.associate_seconds * 4 + 120
        while time.monotonic() < deadline:
            peak = max(peak, _rss_mib(pid))
            out = subprocess.run(
                [kubectl, *admin, "get", "oidcidp", "-n", "default", "-o", "json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            ready = sum(
                any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in o.get("status", {}).get("conditions", [])
                )
                for o in json.loads(out)["items"]
            )
            if ready == args.objects:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        operations = {op: sum(c.values()) for op, c in sim.stats()["operations"].items()}
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
