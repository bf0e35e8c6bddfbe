"""Where the operator's memory goes: tracemalloc and object counts at idle, in a burst, at rest.

Runs the local stack like ``fleet.py`` (N objects on C clusters, associations of S simulated
seconds), with the operator process traced from its first import (``PYTHONTRACEMALLOC``) and
``benchmarks/tracing/sitecustomize.py`` loaded into it, which writes the top allocation sites
(by package and by line) and the most numerous object types whenever it gets SIGUSR1. Dumps
are taken idle, 15 s and 60 s into the burst, and once all objects are Ready, and printed with
the RSS at each (``--at`` sets the moments; ``--restart-at`` restarts the operator once all
are Ready and dumps again). ``--frames N`` traces N frames per allocation and charges each to
the innermost line of the operator or kopf that led to it (much slower). Issuers are served
and verified, as in ``fleet.py``. Tracing slows the operator and adds its own memory: the
sites and their proportions are the finding, not the absolute RSS (``fleet.py`` measures that
untraced).

Usage: ``.venv/bin/python benchmarks/memory_sites.py --objects 2000 --clusters 2000
--associate-seconds 40-80 --regions 10 --at 20,40,60,90 --restart-at 10,20,35,60``
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from eks_oidc_testing.burst import burst
from eks_oidc_testing.issuer import local_issuers
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.stack import Stack, local_stack

TRACING = Path(__file__).resolve().parent / "tracing"


def _ready(stack: Stack) -> int:
    listed = json.loads(stack.kubectl("get", "oidcidp", "-n", "default", "-o", "json"))
    return sum(
        any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in o.get("status", {}).get("conditions", [])
        )
        for o in listed["items"]
    )


def _traced(stack: Stack, dump: Path, env: dict[str, str], frames: int) -> OperatorProcess:
    """The operator, traced from its first import, dumping into ``dump`` on SIGUSR1."""
    return stack.operator(
        {
            **env,
            "PYTHONPATH": str(TRACING),
            "PYTHONTRACEMALLOC": str(frames),
            "EKS_OIDC_MEMORY_DUMP": str(dump),
        }
    )


def _take(operator: OperatorProcess, dump: Path, label: str) -> None:
    """Append one dump, headed by ``label`` and the RSS now."""
    with dump.open("a") as out:
        out.write(f"\n#### {label}: RSS {operator.rss_mib():.0f} MiB\n")
    size = dump.stat().st_size
    assert operator.process is not None
    operator.process.send_signal(signal.SIGUSR1)
    # The dump is written between two bytecodes of the main thread, once it is free.
    deadline = time.monotonic() + 120
    while dump.stat().st_size == size and time.monotonic() < deadline:
        time.sleep(0.5)


def main() -> int:
    """Run it and print the dumps."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--associate-seconds", default="60")
    parser.add_argument("--regions", type=int, default=1)
    parser.add_argument(
        "--at",
        default="15,60",
        help="seconds into the burst at which to dump, comma-separated",
    )
    parser.add_argument(
        "--restart-at",
        default="",
        help="with all Ready, restart the operator and dump at these seconds after its start",
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=1,
        help="frames traced per allocation: more charges each to the operator's or kopf's line "
        "that led to it (slower)",
    )
    args = parser.parse_args()
    n, c = args.objects, min(args.clusters, args.objects)
    clusters = [f"fleet-c{i}" for i in range(c)]
    with (
        local_stack(associate_seconds=args.associate_seconds, clusters=clusters) as stack,
        local_issuers(stack.workdir) as served,
    ):
        dump = stack.workdir / "memory.txt"
        env = {
            "EKS_OIDC_ISSUER_CA_FILE": str(served.ca_file),
            "EKS_OIDC_ISSUER_ALLOW_CIDRS": "127.0.0.1/32",
        }
        operator = _traced(stack, dump, env, args.frames)
        time.sleep(5.0)
        _take(operator, dump, "idle")
        started = time.monotonic()
        burst(stack, n, c, f"{served.base}/tenant", regions=args.regions)
        for at in (float(a) for a in args.at.split(",") if a):
            time.sleep(max(0.0, started + at - time.monotonic()))
            _take(operator, dump, f"{at:.0f} s into the burst of {n} objects on {c} clusters")
        deadline = time.monotonic() + 3600
        while _ready(stack) < n and time.monotonic() < deadline:
            time.sleep(5.0)
        _take(operator, dump, f"all Ready after {time.monotonic() - started:.0f} s")
        if args.restart_at:
            operator.stop()
            operator = _traced(stack, dump, env, args.frames)
            started = time.monotonic()
            for at in (float(a) for a in args.restart_at.split(",") if a):
                time.sleep(max(0.0, started + at - time.monotonic()))
                _take(operator, dump, f"{at:.0f} s after a restart with {n} objects Ready")
        print(dump.read_text())
        operator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
