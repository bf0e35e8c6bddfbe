"""Command line: ``python -m eks_simulator`` / ``eks-simulator``.

Starts the simulator, prints ``eks-simulator listening on http://HOST:PORT`` (the real port
when ``--port 0``) once it accepts connections, and stops cleanly on SIGTERM or SIGINT
(saving the state file, if any).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from eks_simulator import issuers
from eks_simulator.app import build_app
from eks_simulator.clock import SimClock
from eks_simulator.config import PROFILES, ConfigPatch, DurationRange, SimConfig
from eks_simulator.faults import FaultPlan, FaultRule
from eks_simulator.service import Simulator
from eks_simulator.stats import JOURNAL_SIZE
from eks_simulator.throttle import parse_account_rate

log = logging.getLogger("eks_simulator")

DESCRIPTION = """\
A local Amazon EKS control plane for identity-provider configs. Point any boto3 client at it
(AWS_ENDPOINT_URL_EKS=http://HOST:PORT, any access key; signatures are not checked). STS's
AssumeRole is served on the same port (AWS_ENDPOINT_URL_STS=http://HOST:PORT).
Control API under /_sim/ (advance, faults, stats, config, clusters, reset): see docs/simulator.md.
"""


def _clusters(value: str) -> list[tuple[str, str | None]]:
    result: list[tuple[str, str | None]] = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, version = item.partition(":")
        result.append((name, version or None))
    return result


def _fault(value: str) -> dict[str, Any]:
    try:
        spec = json.loads(value)
    except ValueError as error:
        msg = f"--fault expects a JSON object: {error}"
        raise argparse.ArgumentTypeError(msg) from error
    if not isinstance(spec, dict):
        msg = "--fault expects a JSON object"
        raise argparse.ArgumentTypeError(msg)
    return spec


def _rate(value: str) -> float:
    rate = float(value)
    if not 0 <= rate <= 1:
        msg = "a rate is a probability between 0 and 1"
        raise argparse.ArgumentTypeError(msg)
    return rate


def _duration(value: str) -> DurationRange:
    """``S`` or ``LOW-HIGH`` seconds."""
    low, _, high = value.partition("-")
    return DurationRange(low=float(low), high=float(high or low))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="eks-simulator", description=DESCRIPTION)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=4566, help="TCP port; 0 picks a free one (default 4566)"
    )
    p.add_argument(
        "--clusters",
        type=_clusters,
        default=[],
        metavar="NAME[:VERSION],...",
        help="clusters that exist, ACTIVE, at start (e.g. prod:1.32,dev:1.31); "
        "VERSION defaults to --default-version",
    )
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="fast",
        help="timing profile: fast (1-2 s steps, for tests) or realistic (cluster create ~10 min, "
        "associate/disassociate 15-40 min, with jitter) (default fast)",
    )
    timing = "seconds, or a LOW-HIGH range drawn uniformly; overrides the profile"
    p.add_argument(
        "--associate-seconds", type=_duration, metavar="S", help=f"association time: {timing}"
    )
    p.add_argument(
        "--disassociate-seconds", type=_duration, metavar="S", help=f"disassociation time: {timing}"
    )
    p.add_argument(
        "--create-cluster-seconds",
        type=_duration,
        metavar="S",
        help=f"CREATING -> ACTIVE: {timing}",
    )
    p.add_argument(
        "--delete-cluster-seconds", type=_duration, metavar="S", help=f"DELETING -> gone: {timing}"
    )
    p.add_argument(
        "--failed-config-gc-seconds",
        type=_duration,
        metavar="S",
        help=f"how long a config of a failed association lingers before removal: {timing}",
    )
    p.add_argument(
        "--manual-clock",
        action="store_true",
        help="simulated time stands still except through POST /_sim/advance (deterministic tests)",
    )
    p.add_argument(
        "--state-file",
        type=Path,
        metavar="PATH",
        help="persist state here (atomic writes) and reload it on start",
    )
    p.add_argument(
        "--region",
        default="us-west-2",
        help="region used in ARNs, issuers and endpoints (default us-west-2)",
    )
    p.add_argument(
        "--account-id",
        default="123456789012",
        help="account id used in ARNs (default 123456789012)",
    )
    p.add_argument(
        "--default-version",
        default="1.33",
        help="Kubernetes version when none is given (default 1.33)",
    )
    p.add_argument(
        "--provider-limit",
        type=int,
        metavar="N",
        help="identity providers per cluster (default: 1 below Kubernetes 1.32, 10 from 1.32)",
    )
    p.add_argument(
        "--cluster-limit",
        type=int,
        default=None,
        metavar="N",
        help="CreateCluster quota per region (default 100)",
    )
    p.add_argument(
        "--legacy-idp-list-max-results",
        action="store_true",
        help="2022 behaviour: ListIdentityProviderConfigs on clusters below 1.32 "
        "rejects maxResults != 1",
    )
    p.add_argument(
        "--fetch-issuers",
        action="store_true",
        help="after each accepted association, fetch the issuer's discovery document and keys "
        "as EKS does; the update ends Failed when that fails (default off)",
    )
    p.add_argument(
        "--issuer-ca-file",
        type=Path,
        metavar="PATH",
        help="PEM bundle trusted for --fetch-issuers, besides the system's CAs",
    )
    p.add_argument(
        "--throttle-rate",
        type=_rate,
        metavar="P",
        help="answer each EKS call with 429 ThrottlingException with probability P",
    )
    p.add_argument(
        "--account-rate",
        type=parse_account_rate,
        metavar="RATE[/BURST]",
        help="throttle each account like a token bucket: BURST calls at once, refilled at RATE "
        "a second; the rest answered 429 ThrottlingException (an assumption: EKS publishes no "
        "rate; default: no limit)",
    )
    p.add_argument(
        "--server-error-rate",
        type=_rate,
        metavar="P",
        help="answer each EKS call with 500 ServerException with probability P",
    )
    p.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="JSON",
        help='a fault as in POST /_sim/faults, e.g. \'{"kind": "throttle", "operation": '
        '"DescribeCluster", "count": 2}\'; repeatable',
    )
    p.add_argument(
        "--seed", type=int, help="random seed for ids, jitter and rate faults (reproducible runs)"
    )
    p.add_argument(
        "--journal-size",
        type=int,
        default=JOURNAL_SIZE,
        metavar="N",
        help=f"recent calls kept for GET /_sim/requests (default {JOURNAL_SIZE})",
    )
    p.add_argument("--log-level", default="WARNING", help="Python logging level (default WARNING)")
    return p.parse_args(argv)


def build_simulator(args: argparse.Namespace) -> Simulator:
    """A simulator configured from the command line (and the state file, if any)."""
    patch = ConfigPatch(
        profile=args.profile,
        associate_seconds=args.associate_seconds,
        disassociate_seconds=args.disassociate_seconds,
        create_cluster_seconds=args.create_cluster_seconds,
        delete_cluster_seconds=args.delete_cluster_seconds,
        failed_config_gc_seconds=args.failed_config_gc_seconds,
        provider_limit=args.provider_limit,
        cluster_limit=args.cluster_limit,
        legacy_idp_list_max_results=args.legacy_idp_list_max_results or None,
        fetch_issuers=args.fetch_issuers or None,
        issuer_ca_file=None if args.issuer_ca_file is None else str(args.issuer_ca_file),
        account_rate=args.account_rate,
    )
    if patch.issuer_ca_file is not None:
        # An unreadable bundle stops the start, rather than failing associations later.
        issuers.ssl_context(patch.issuer_ca_file)
    base = SimConfig(
        region=args.region,
        account_id=args.account_id,
        default_kubernetes_version=args.default_version,
    )
    faults = FaultPlan(seed=args.seed)
    if args.throttle_rate:
        faults.add(FaultRule(kind="throttle", rate=args.throttle_rate))
    if args.server_error_rate:
        faults.add(FaultRule(kind="server-error", rate=args.server_error_rate))
    sim = Simulator(
        patch.apply(base),
        clock=SimClock(manual=args.manual_clock),
        faults=faults,
        state_file=args.state_file,
        seed=args.seed,
        journal_size=args.journal_size,
    )
    if sim.load():
        # Flags given explicitly on this start still win over the saved configuration.
        explicit = ConfigPatch.model_validate(
            patch.model_dump(exclude_defaults=True, exclude={"profile"})
        )
        sim.state.config = explicit.apply(sim.state.config)
    for name, version in args.clusters:
        if name not in sim.state.clusters:
            sim.create_cluster(name, version=version)
    for spec in args.fault:
        sim.add_fault(spec)
    sim.save()
    return sim


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


async def serve(sim: Simulator, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT, then save and close."""
    runner = web.AppRunner(build_app(sim), access_log=None, handle_signals=False)
    await runner.setup()
    sock = _bind(host, port)
    site = web.SockSite(runner, sock)
    await site.start()
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"eks-simulator listening on http://{shown}:{real_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        sim.save()


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m eks_simulator`` and the ``eks-simulator`` script."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        sim = build_simulator(args)
    except (ValueError, OSError) as error:
        sys.exit(f"eks-simulator: {error}")
    asyncio.run(serve(sim, args.host, args.port))


if __name__ == "__main__":
    main()
