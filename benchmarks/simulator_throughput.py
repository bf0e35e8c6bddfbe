"""How many requests per second the EKS simulator sustains on one core.

Starts one simulator process (one event loop, so one core) on loopback, then drives it
from *separate* load processes with a mixed load: each worker owns one cluster and loops
associate -> 3 describes -> disassociate -> 3 reads (DescribeCluster,
DescribeIdentityProviderConfig, DescribeUpdate, ListIdentityProviderConfigs), i.e. 25 %
mutating calls. Associations are set to complete instantly (``--associate-seconds 0``) so
every call succeeds and the cycle never waits; the lifecycle work (ticks, state
transitions) is still done on every call.

Two client kinds:

* ``raw`` (default): asyncio + aiohttp sending byte-for-byte the requests botocore sends -
  cheap enough on the client side that the simulator is the bottleneck;
* ``boto3``: real boto3 clients in threads (slower per call on the client side, so on a
  small machine it measures the client as much as the server).

Usage::

    python benchmarks/simulator_throughput.py [--seconds 10] [--client raw|boto3]
        [--workers 32] [--processes 1]

Prints the achieved requests/second (counted by the load generator and, as a cross-check,
by the simulator's own ``/_sim/stats``). Bounded in time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

LISTENING_PREFIX = "eks-simulator listening on "
TARGET_RPS = 500


def start_simulator(clusters: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start the simulator on a free loopback port; returns (process, url)."""
    argv = [
        sys.executable,
        "-m",
        "eks_simulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--associate-seconds",
        "0",
        "--disassociate-seconds",
        "0",
        "--clusters",
        ",".join(clusters),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith(LISTENING_PREFIX):
        process.kill()
        msg = f"simulator did not start: {line!r}"
        raise RuntimeError(msg)
    return process, line.removeprefix(LISTENING_PREFIX)


def _oidc(cluster: str) -> dict[str, Any]:
    return {
        "identityProviderConfigName": "bench",
        "issuerUrl": f"https://{cluster}.issuer.example.com",
        "clientId": "kubernetes",
        "usernameClaim": "email",
    }


# ------------------------------------------------------------------ raw aiohttp client


async def _raw_worker(
    session: Any, url: str, cluster: str, deadline: float, counts: Counter[str]
) -> None:
    ref = json.dumps({"identityProviderConfig": {"type": "oidc", "name": "bench"}})
    headers = {"Content-Type": "application/json"}

    async def call(method: str, path: str, body: str | None = None) -> Any:
        async with session.request(method, url + path, data=body, headers=headers) as response:
            payload = await response.json(content_type=None)
            counts[str(response.status)] += 1
            return payload

    base = f"/clusters/{cluster}"
    while time.monotonic() < deadline:
        body = json.dumps({"oidc": _oidc(cluster), "clientRequestToken": str(uuid.uuid4())})
        update = (await call("POST", f"{base}/identity-provider-configs/associate", body))["update"]
        await call("GET", base)
        await call("POST", f"{base}/identity-provider-configs/describe", ref)
        await call("GET", f"{base}/updates/{update['id']}")
        body = json.dumps(
            {
                "identityProviderConfig": {"type": "oidc", "name": "bench"},
                "clientRequestToken": str(uuid.uuid4()),
            }
        )
        update = (await call("POST", f"{base}/identity-provider-configs/disassociate", body))[
            "update"
        ]
        await call("GET", base)
        await call("GET", f"{base}/updates/{update['id']}")
        await call("GET", f"{base}/identity-provider-configs")


async def _raw_load(url: str, clusters: list[str], seconds: float) -> dict[str, int]:
    import aiohttp

    counts: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=len(clusters))
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(_raw_worker(session, url, c, deadline, counts) for c in clusters))
    return dict(counts)


# ------------------------------------------------------------------ boto3 client


def _boto3_worker(
    url: str, cluster: str, deadline: float, counts: Counter[str], lock: threading.Lock
) -> None:
    import boto3
    from botocore.config import Config

    eks: Any = boto3.client(
        "eks",
        endpoint_url=url,
        region_name="us-west-2",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - a dummy; signatures are not checked
        config=Config(retries={"total_max_attempts": 1}),
    )
    ref = {"type": "oidc", "name": "bench"}
    done = 0
    while time.monotonic() < deadline:
        update = eks.associate_identity_provider_config(clusterName=cluster, oidc=_oidc(cluster))
        eks.describe_cluster(name=cluster)
        eks.describe_identity_provider_config(clusterName=cluster, identityProviderConfig=ref)
        eks.describe_update(name=cluster, updateId=update["update"]["id"])
        update = eks.disassociate_identity_provider_config(
            clusterName=cluster, identityProviderConfig=ref
        )
        eks.describe_cluster(name=cluster)
        eks.describe_update(name=cluster, updateId=update["update"]["id"])
        eks.list_identity_provider_configs(clusterName=cluster)
        done += 8
    with lock:
        counts["200"] += done  # boto3 raises on anything else


def _boto3_load(url: str, clusters: list[str], seconds: float) -> dict[str, int]:
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_boto3_worker, args=(url, c, deadline, counts, lock))
        for c in clusters
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(counts)


def run_load(kind: str, url: str, clusters: list[str], seconds: float) -> dict[str, int]:
    """One load process: drive ``clusters`` (one worker each) for ``seconds``."""
    if kind == "raw":
        return asyncio.run(_raw_load(url, clusters, seconds))
    return _boto3_load(url, clusters, seconds)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration")
    parser.add_argument("--client", choices=["raw", "boto3"], default="raw")
    parser.add_argument("--workers", type=int, default=32, help="concurrent workers (clusters)")
    parser.add_argument("--processes", type=int, default=1, help="load-generator processes")
    args = parser.parse_args()

    clusters = [f"bench-{i:03d}" for i in range(args.workers)]
    simulator, url = start_simulator(clusters)
    try:
        shares = [clusters[i :: args.processes] for i in range(args.processes)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.processes, mp_context=context) as pool:
            # Warm up (imports, connections), then reset the counters and measure.
            list(
                pool.map(
                    run_load,
                    [args.client] * args.processes,
                    [url] * args.processes,
                    shares,
                    [1.0] * args.processes,
                )
            )
            reset = urllib.request.Request(url + "/_sim/stats/reset", method="POST")  # noqa: S310
            urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310 - loopback
            started = time.monotonic()
            results = list(
                pool.map(
                    run_load,
                    [args.client] * args.processes,
                    [url] * args.processes,
                    shares,
                    [args.seconds] * args.processes,
                )
            )
            elapsed = time.monotonic() - started
        stats = _get_json(url + "/_sim/stats")["operations"]
    finally:
        os.kill(simulator.pid, signal.SIGTERM)
        simulator.wait(timeout=30)

    total: Counter[str] = Counter()
    for counts in results:
        total.update(counts)
    served = sum(sum(by_status.values()) for by_status in stats.values())
    rps = sum(total.values()) / elapsed
    print(
        f"client={args.client} workers={args.workers} processes={args.processes} "
        f"seconds={elapsed:.1f}"
    )
    print(f"responses by status: {dict(total)}")
    per_operation = ", ".join(f"{op}={sum(s.values())}" for op, s in sorted(stats.items()))
    print(f"simulator counted {served} calls: {per_operation}")
    verdict = "met" if rps >= TARGET_RPS else "NOT met"
    print(f"throughput: {rps:.0f} requests/second (target >= {TARGET_RPS}: {verdict})")


if __name__ == "__main__":
    main()
