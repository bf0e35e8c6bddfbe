"""A crowd behind one slow issuer host: how long until every object is Associating.

The pre-flight checks at most a few issuers of one host (and of one namespace) at once, and a
check that gets no turn within the issuer timeout answers ``IssuerNotCheckedYet``: the object
makes no EKS call and is checked again in seconds. This applies ``--objects`` objects at once
(fleet.py's burst), each on a cluster of its own, whose issuers are all on one local HTTPS
host that answers each document after ``--late`` seconds, with the pre-flight enforced and the
operator's default
schedule otherwise (its issuer timeout at ``--timeout``; the drift check at an hour, so only
the retries of turned-away checks can let an object through). It prints, every ten seconds,
the objects by their Ready condition's reason, and the seconds until none waits for its check.

Usage: ``.venv/bin/python benchmarks/issuer_crowd.py [--objects 60] [--late 0.6] [--timeout 1]``
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time

from eks_oidc_testing.burst import burst
from eks_oidc_testing.issuer import local_issuers
from eks_oidc_testing.stack import Stack, local_stack

WAITING = "IssuerNotCheckedYet"


def _reasons(stack: Stack) -> collections.Counter[str]:
    """Objects by their Ready condition's reason ("-": none yet)."""
    listed = json.loads(stack.kubectl("get", "oidcidp", "-n", "default", "-o", "json"))["items"]
    reasons: collections.Counter[str] = collections.Counter()
    for item in listed:
        conditions = (item.get("status") or {}).get("conditions", [])
        ready = [c["reason"] for c in conditions if c["type"] == "Ready"]
        reasons[ready[0] if ready else "-"] += 1
    return reasons


def main() -> int:
    """Run it and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=60)
    parser.add_argument("--late", type=float, default=0.6, help="seconds each issuer takes")
    parser.add_argument("--timeout", type=float, default=1.0, help="the issuer timeout")
    parser.add_argument("--limit", type=float, default=600.0, help="give up after this long")
    args = parser.parse_args()
    n = args.objects
    clusters = [f"fleet-c{i}" for i in range(n)]
    with (
        local_stack(associate_seconds="3", clusters=clusters) as stack,
        local_issuers(stack.workdir) as issuers,
    ):
        stack.operator(
            {
                "EKS_OIDC_ISSUER_CHECK": "Enforce",
                "EKS_OIDC_ISSUER_CA_FILE": str(issuers.ca_file),
                "EKS_OIDC_ISSUER_TIMEOUT_SECONDS": str(args.timeout),
                "EKS_OIDC_ISSUER_ALLOW_CIDRS": "127.0.0.1/32",
                "EKS_OIDC_RESYNC_SECONDS": "3600",
            }
        )
        # Object i's issuer is <base>/late<n>-i: served, and answering after --late seconds.
        burst(stack, n, n, f"{issuers.base}/late{round(args.late * 10)}")
        started = time.monotonic()
        while time.monotonic() - started < args.limit:
            reasons = _reasons(stack)
            elapsed = time.monotonic() - started
            print(f"{elapsed:5.0f} s: {dict(sorted(reasons.items()))}", flush=True)
            if not reasons.get(WAITING) and not reasons.get("-"):
                print(f"{n} objects past the pre-flight after {elapsed:.0f} s")
                return 0
            time.sleep(10.0)
        print(f"some objects still waited for their check after {args.limit:.0f} s")
        return 1


if __name__ == "__main__":
    sys.exit(main())
