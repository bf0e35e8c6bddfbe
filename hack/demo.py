"""``make demo``: the whole thing on one machine, in a couple of minutes.

Starts the local control plane (a real kube-apiserver + etcd), the EKS simulator with the demo
clusters (associations take about 20 s, so the wait is visible), installs the Helm chart, runs
the operator as a process with the chart's ServiceAccount identity (the local control plane runs
no pods), applies ``deploy/examples/``, and shows the objects and their events live until every
example is Ready -- or reports EKS's refusal, for the one EKS refuses. Then it keeps everything
running until Ctrl-C and prints the KUBECONFIG and EKS endpoint to play with. ``DEMO_ONESHOT=1``
exits 0 as soon as every example has reached its expected state (non-zero on timeout).

An example may carry the annotation ``eksoidc.io/demo-expect``: ``Stalled`` (a human is needed),
or ``Failed`` (EKS failed its update and the Ready condition says so with EKS's code: while the
operator retries it automatically, and once Stalled); all others are expected to become Ready.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from eks_oidc_operator.reconcile.reasons import UPDATE_FAILED
from eks_oidc_testing import controlplane
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.paths import CHART, REPO
from eks_oidc_testing.simulator import running_simulator
from eks_oidc_testing.stack import Stack

KIND = "OidcIdentityProvider"
STATE_DIR = REPO / ".local" / "demo"
EXAMPLES = Path(os.environ.get("DEMO_EXAMPLES", REPO / "deploy" / "examples"))
EXPECT = "eksoidc.io/demo-expect"
ASSOCIATE_SECONDS = "18-22"
"""Long enough to see Associating, short enough to wait for."""
BROKEN_CLUSTER = "demo-broken"
"""The cluster whose associations EKS fails: its issuer cannot be reached."""
TIMEOUT_S = 240.0
DEMO_TIMINGS = {
    # The operator's real schedule, scaled to a 20-second association.
    "EKS_OIDC_POLL_INITIAL_SECONDS": "2",
    "EKS_OIDC_POLL_MAX_SECONDS": "4",
    "EKS_OIDC_SLOW_RETRY_BASE_SECONDS": "120",
    "EKS_OIDC_RESYNC_SECONDS": "60",
}


def _examples() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return [d for d in docs if d.get("kind") == KIND]


class Demo(Stack):
    """The running parts, plus what only the demo does: the chart and the live view."""

    def install_chart(self) -> None:
        """The CRD, then the chart (ServiceAccount, RBAC, Deployment) with helm."""
        self.install_crd()
        installed = subprocess.run(
            [
                str(self.binaries / "helm"),
                "upgrade",
                "--install",
                "eks-oidc-operator",
                str(CHART),
                "--namespace",
                controlplane.OPERATOR_NAMESPACE,
                f"--kubeconfig={self.plane.admin_kubeconfig}",
                # The local stack applied the CRD already (as `kubectl apply -f crds/` would),
                # and with no kubelet the chart's CRD upgrade hook (a Job) could not run.
                "--skip-crds",
                "--set",
                "crds.upgrade=false",
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            msg = f"helm install failed:\n{installed.stderr}"
            raise RuntimeError(msg)

    def _print_new_events(self, seen: set[str]) -> None:
        events = json.loads(self.kubectl("get", "events", "-A", "-o", "json"))["items"]
        for event in sorted(events, key=lambda e: e.get("lastTimestamp") or ""):
            involved = event["involvedObject"]
            if event["metadata"]["uid"] in seen or involved.get("kind") != KIND:
                continue
            seen.add(event["metadata"]["uid"])
            who = f"{involved['namespace']}/{involved['name']}"
            print(f"  event {event['type']:<7} {event['reason']:<22} {who}: {event['message']}")

    def watch(self, expected: dict[tuple[str, str], str]) -> bool:
        """Print the table when it changes and events as they come; True once all arrived."""
        seen_events: set[str] = set()
        last_table = ""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            table = self.kubectl("get", "oidcidp", "-A")
            # Like `kubectl get -w`: print when a row changes (the AGE column alone does not).
            shape = "\n".join(line.rsplit(None, 1)[0] for line in table.splitlines() if line)
            if shape != last_table:
                print(f"\n--- {time.strftime('%H:%M:%S')}  kubectl get oidcidp -A\n{table}", end="")
                last_table = shape
            self._print_new_events(seen_events)
            objects = json.loads(self.kubectl("get", "oidcidp", "-A", "-o", "json"))["items"]
            states = {
                (o["metadata"]["namespace"], o["metadata"]["name"]): _state(o) for o in objects
            }
            if all(_arrived(states.get(key, ""), want) for key, want in expected.items()):
                # The table and events above came from earlier reads: show the final table, and
                # the events kopf posts just after the status that completed the picture.
                print(
                    f"\n--- {time.strftime('%H:%M:%S')}  kubectl get oidcidp -A\n"
                    f"{self.kubectl('get', 'oidcidp', '-A')}",
                    end="",
                )
                for _ in range(3):
                    time.sleep(1)
                    self._print_new_events(seen_events)
                return True
            time.sleep(1)
        return False


def _state(obj: dict[str, Any]) -> str:
    conditions = {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}
    for kind in ("Ready", "Stalled"):
        if conditions.get(kind, {}).get("status") == "True":
            return kind
    # A failed update being retried reports progress with EKS's code in Ready's reason.
    if conditions.get("Ready", {}).get("reason", "").startswith(UPDATE_FAILED):
        return "Failed"
    return "Pending"


def _arrived(state: str, want: str) -> bool:
    """Whether ``state`` is the expected one (``Failed`` is met by a Stalled failure too)."""
    return state == want or (want == "Failed" and state == "Stalled")


def run(oneshot: bool) -> int:
    """Start everything, apply the examples, watch; keep running unless ``oneshot``."""
    examples = _examples()
    if not examples:
        print(f"no {KIND} in {EXAMPLES}", file=sys.stderr)
        return 1
    expected = {
        (e["metadata"].get("namespace", "default"), e["metadata"]["name"]): e["metadata"]
        .get("annotations", {})
        .get(EXPECT, "Ready")
        for e in examples
    }
    clusters = sorted({e["spec"]["clusterName"] for e in examples} | {BROKEN_CLUSTER})
    started = time.monotonic()
    binaries = controlplane.bin_dir()
    controlplane.stop(STATE_DIR)
    plane = controlplane.start(STATE_DIR, binaries=binaries)
    unreachable = {
        "kind": "fail-association",
        "cluster": BROKEN_CLUSTER,
        "count": 1000,
        "errorCode": "Unknown",
        "errorMessage": "Unable to fetch the OpenID configuration of the issuer: "
        "https://sso.unreachable.example/.well-known/openid-configuration",
    }
    try:
        with running_simulator(
            clusters=[f"{name}:1.33" for name in clusters],
            associate_seconds=ASSOCIATE_SECONDS,
            disassociate_seconds="8-12",
            fault=[unreachable],
        ) as sim:
            demo = Demo(plane, sim, binaries, STATE_DIR)
            demo.install_chart()
            operator = OperatorProcess(
                Path(plane.operator_kubeconfig),
                sim.url,
                STATE_DIR / "operator.log",
                extra_env=DEMO_TIMINGS,
            )
            operator.start()
            try:
                for namespace in sorted({ns for ns, _ in expected}):
                    demo.kubectl(
                        "apply",
                        "-f",
                        "-",
                        stdin=json.dumps(
                            {
                                "apiVersion": "v1",
                                "kind": "Namespace",
                                "metadata": {"name": namespace},
                            }
                        ),
                    )
                for example in examples:
                    demo.kubectl("apply", "-f", "-", stdin=json.dumps(example))
                print(
                    f"applied {len(examples)} examples from deploy/examples/ "
                    "(EKS associations take about 20 s)"
                )
                arrived = demo.watch(expected)
                verdict = "every example reached its expected state" if arrived else "TIMED OUT"
                print(f"\n{verdict} after {time.monotonic() - started:.0f} s (start-up included)")
                if not arrived:
                    print(operator.log_tail(), file=sys.stderr)
                    return 1
                if oneshot:
                    return 0
                print(
                    f"\nPlay with it (Ctrl-C stops everything):\n"
                    f"  export KUBECONFIG={plane.admin_kubeconfig}\n"
                    f"  export PATH={binaries}:$PATH\n"
                    f"  export AWS_ENDPOINT_URL_EKS={sim.url} AWS_ACCESS_KEY_ID=x "
                    "AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-west-2\n"
                    f"  kubectl get oidcidp -A -w\n"
                    f"  operator log: {operator.log_path}",
                    flush=True,
                )
                while True:
                    time.sleep(3600)
            finally:
                operator.stop()
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        controlplane.stop(STATE_DIR)


def main() -> int:
    """``DEMO_ONESHOT=1`` exits as soon as every example arrived."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    return run(os.environ.get("DEMO_ONESHOT", "") not in ("", "0", "false"))


if __name__ == "__main__":
    sys.exit(main())
