"""The issuer pre-flight: time from apply to Stalled for each issuer that answers wrongly or
that the fence refuses, the EKS calls made (target 0), and the operator's peak memory with
hostile issuers (target: unchanged within noise, far below the chart's 256 Mi limit).

Starts the local control plane, the EKS simulator and the operator with its default timings
and the pre-flight enforced, serves HTTPS issuers on loopback with a CA of their own (handed to
the operator as its CA bundle), applies one OidcIdentityProvider per variant, and prints, for
each, the reason it stalled with, the seconds from apply to Stalled=True (observed by polling
the API server every 0.1 s), and the EKS calls made on its cluster. The hostile issuers send
(or announce) ``--hostile-mib`` MiB each (300 by default, as in the audit that found the
unbounded read): a huge document, an endless stream, a gzip bomb, a huge key set; then the
operator's resident memory at rest and at its peak (VmHWM) are printed.

Usage: ``.venv/bin/python benchmarks/issuer_preflight.py [--hostile-mib N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eks_oidc_testing.issuer import LocalIssuers, local_issuers
from eks_oidc_testing.stack import Stack, local_stack

VARIANTS = (
    "mismatch",
    "nokeys",
    "broken",
    "untrusted",
    "redirect",
    "slow",
    "plainjwks",
    "metadata",
    "private",
    "huge",
    "endless",
    "gzip",
    "hugejwks",
)


def _stalled_reason(body: dict[str, Any]) -> str | None:
    for entry in body.get("status", {}).get("conditions", []):
        if entry["type"] == "Stalled" and entry["status"] == "True":
            reason: str = entry["reason"]
            return reason
    return None


def _measure(stack: Stack, issuers: LocalIssuers, variant: str) -> tuple[str | None, float, int]:
    url = {
        "untrusted": issuers.untrusted,
        "private": issuers.url("good").replace("127.0.0.1", "127.0.0.2"),  # not allowed
    }.get(variant, issuers.url(variant))
    name = f"pf-{variant}"
    manifest = {
        "apiVersion": "eksoidc.io/v1alpha1",
        "kind": "OidcIdentityProvider",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"clusterName": name, "oidc": {"issuerUrl": url, "clientId": "k"}},
    }
    started = time.monotonic()
    stack.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    reason = None
    while reason is None and time.monotonic() - started < 60:
        time.sleep(0.1)
        reason = _stalled_reason(
            json.loads(stack.kubectl("get", f"oidcidp/{name}", "-n", "default", "-o", "json"))
        )
    elapsed = time.monotonic() - started
    made = sum(1 for call in stack.sim.requests() if call.get("cluster") == name)
    return reason, elapsed, made


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hostile-mib", type=int, default=300)
    args = parser.parse_args()
    size = args.hostile_mib * 2**20
    with (
        tempfile.TemporaryDirectory() as folder,
        local_issuers(Path(folder), hostile_bytes=size) as issuers,
    ):
        clusters = [f"pf-{variant}" for variant in VARIANTS]
        with local_stack(associate_seconds=60, clusters=clusters) as stack:
            operator = stack.operator(
                {
                    "EKS_OIDC_ISSUER_CHECK": "Enforce",
                    "EKS_OIDC_ISSUER_CA_FILE": str(issuers.ca_file),
                    "EKS_OIDC_ISSUER_ALLOW_CIDRS": "127.0.0.1/32",
                }
            )
            print("operator defaults, issuer pre-flight enforced; one object per variant")
            time.sleep(5.0)  # settled after start-up
            idle = operator.rss_mib()
            failures = 0
            for variant in VARIANTS:
                reason, elapsed, made = _measure(stack, issuers, variant)
                failures += reason is None
                print(f"{variant}: {reason}, Stalled {elapsed:.1f} s after apply, {made} EKS calls")
                failures += made > 0
            print(
                f"RSS at rest {idle:.0f} MiB; peak over the hostile issuers "
                f"({args.hostile_mib} MiB each) {operator.peak_rss_mib():.0f} MiB; "
                "the chart's limit is 256 Mi"
            )
            operator.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
