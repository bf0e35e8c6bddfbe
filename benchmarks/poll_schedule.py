"""The poll schedule at EKS's real association lengths, with time scaled: DescribeUpdate calls
per update and completion -> Ready lag, for the learned schedule and a flat 30 s requeue.

Real associations take 15-40 minutes, and EKS says nothing when one ends: a figure measured with
a fixed length that is a multiple of the poll interval only shows where the polls happen to
land. So here each association's length is drawn uniformly from ``--durations`` (real seconds,
default 900-2400), and time is scaled by ``--scale`` (default 30): the simulator's durations and
every operator timing that matters here (the first poll, the cap, the near interval) are
divided by it, so one benchmark second stands for ``scale`` real seconds. Figures are printed
scaled back, in real seconds (a lag measured to about 0.1 s here is +/- 0.1 x scale there).

Each schedule runs on a stack of its own: ``--clusters`` clusters, ``--per-cluster`` objects on
each applied at once (they queue on their cluster, which so runs its updates back to back), the
issuer pre-flight off (no issuer to serve). The flat requeue is the operator with
``EKS_OIDC_POLL_WINDOW_SAMPLES=0`` (the ACK controller's schedule). Printed for each, over all
updates and over those started after the operator had learned a window (3 ended updates):

- DescribeUpdate calls per update (each DescribeUpdate on a cluster is charged to the update
  that was the cluster's latest to start);
- completion -> Ready lag, p50/p95/max: from the simulator completing the association to the
  API server's watch delivering Ready=True.

``--model N`` runs no stack: it walks N drawn updates, one after the other, through the
operator's own schedule (``poll_delay``) and its own book of spans (``UpdateDurations``), as a
single object would see them with no pass taking any time, and prints the same figures for
both schedules: the steady state a short run on the stack does not reach.

Usage: ``.venv/bin/python benchmarks/poll_schedule.py [--scale 30] [--clusters 10]
[--per-cluster 4] [--durations 900-2400] [--model N]``
"""

from __future__ import annotations

import argparse
import bisect
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from eks_oidc_operator import constants
from eks_oidc_operator.models import EksUpdate, OidcIdentityProviderStatus
from eks_oidc_operator.reconcile.timing import Timings, poll_delay
from eks_oidc_operator.runtime.pacing.durations import UpdateDurations
from eks_oidc_testing.burst import burst
from eks_oidc_testing.fleet_watch import Watch, percentiles, updates_by_cluster
from eks_oidc_testing.stack import Stack, local_stack

ASSOCIATE = "AssociateIdentityProviderConfig"
LEARNED_AFTER = 3
"""Ended updates the operator needs before it uses their window (its default)."""

SCHEDULES = {
    "flat 30 s requeue": {"EKS_OIDC_POLL_WINDOW_SAMPLES": "0"},
    "learned window": {},
}


def _scaled_env(scale: float) -> dict[str, str]:
    """The operator's timings divided by ``scale`` (the shipped 30 s first poll and cap, 20 s
    near interval), the issuer pre-flight off."""
    return {
        "EKS_OIDC_POLL_INITIAL_SECONDS": str(30 / scale),
        "EKS_OIDC_POLL_MAX_SECONDS": str(30 / scale),
        "EKS_OIDC_POLL_NEAR_SECONDS": str(20 / scale),
        "EKS_OIDC_ISSUER_CHECK": "Skip",
    }


def _per_update_polls(
    journal: list[dict[str, Any]], updates: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """DescribeUpdate calls charged to each association (by id)."""
    polls: dict[str, int] = defaultdict(int)
    starts = {cluster: [u["created_at"] for u in ordered] for cluster, ordered in updates.items()}
    for call in journal:
        ordered = updates.get(call.get("cluster") or "", [])
        if call["operation"] != "DescribeUpdate" or not ordered:
            continue
        index = bisect.bisect_right(starts[call["cluster"]], call["at"]) - 1
        if index >= 0:
            polls[ordered[index]["id"]] += 1
    return polls


def _learned_at(associations: list[dict[str, Any]]) -> float:
    """When the operator could first have known a window: the 3rd successful completion."""
    ends = sorted(u["completes_at"] for u in associations if u["status"] == "Successful")
    return ends[LEARNED_AFTER - 1] if len(ends) >= LEARNED_AFTER else float("inf")


def _report(label: str, stack: Stack, watch: Watch, scale: float) -> None:
    updates = updates_by_cluster(stack)
    polls = _per_update_polls(stack.sim.requests(), updates)
    associations = [u for ordered in updates.values() for u in ordered if u["type"] == ASSOCIATE]
    learned_at = _learned_at(associations)
    for subset, chosen in (
        ("all", associations),
        ("after a window was learned", [u for u in associations if u["created_at"] > learned_at]),
    ):
        lags = [
            (watch.ready_at[u["config_name"]] - u["completes_at"]) * scale
            for u in chosen
            if u["config_name"] in watch.ready_at
        ]
        calls = [polls.get(u["id"], 0) for u in chosen]
        mean = statistics.mean(calls) if calls else 0.0
        print(
            f"{label}, {subset} ({len(chosen)} updates): DescribeUpdate {mean:.1f} per update; "
            f"completion -> Ready lag (real seconds) {percentiles(lags)}"
        )


def _run(label: str, env: dict[str, str], args: argparse.Namespace) -> bool:
    low, _, high = args.durations.partition("-")
    scaled = f"{float(low) / args.scale:g}-{float(high or low) / args.scale:g}"
    clusters = [f"fleet-c{i}" for i in range(args.clusters)]
    objects = args.clusters * args.per_cluster
    with local_stack(associate_seconds=scaled, clusters=clusters, seed=args.seed) as stack:
        stack.operator({**_scaled_env(args.scale), **env})
        time.sleep(3.0)
        stack.sim.reset_stats()
        with Watch(stack).running() as watch:
            burst(stack, objects, args.clusters)
            deadline = time.monotonic() + args.per_cluster * float(high or low) / args.scale * 3
            while len(watch.ready_at) < objects and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(1.0)
        _report(label, stack, watch, args.scale)
        ready: bool = len(watch.ready_at) == objects
        return ready


START = datetime(2026, 1, 1, tzinfo=UTC)
"""When every modelled update starts (only the time since matters)."""


def _status(update_id: str, state: str) -> OidcIdentityProviderStatus:
    update = EksUpdate(
        id=update_id, type=constants.UPDATE_ASSOCIATE, status=state, created_at=START
    )
    return OidcIdentityProviderStatus(update=update)


def _walk(
    timings: Timings, book: UpdateDurations, update_id: str, ends: float
) -> tuple[int, float]:
    """One update that ends ``ends`` s after it starts, polled on the schedule with ``book``'s
    windows, which then learns from it: its polls and its lag."""
    key = ("", "us-west-2")
    elapsed, polls = 0.0, 0
    before = after = _status(update_id, constants.UPDATE_IN_PROGRESS)
    while elapsed < ends:
        window = book.windows(key).get(constants.UPDATE_ASSOCIATE)
        elapsed += poll_delay(polls, timings, elapsed, window)
        polls += 1
        before, after = after, _status(update_id, "Successful" if elapsed >= ends else "InProgress")
        book.observe(key, before, after, START + timedelta(seconds=elapsed))
    return polls, elapsed - ends


def _model(args: argparse.Namespace) -> None:
    low, _, high = args.durations.partition("-")
    for label, env in SCHEDULES.items():
        samples = int(env.get("EKS_OIDC_POLL_WINDOW_SAMPLES", Timings().poll_window_samples))
        timings = Timings(poll_window_samples=samples)
        rng = random.Random(args.seed)  # noqa: S311 - drawn durations, not secrets
        book = UpdateDurations()
        walked = [
            _walk(timings, book, f"u{i}", rng.uniform(float(low), float(high or low)))
            for i in range(args.model)
        ]
        polls = [p for p, _ in walked]
        print(
            f"{label}, model of {args.model} updates: DescribeUpdate "
            f"{statistics.mean(polls):.1f} per update; completion -> Ready lag "
            f"{percentiles([lag for _, lag in walked])}"
        )


def main() -> int:
    """Run both schedules and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--per-cluster", type=int, default=4)
    parser.add_argument("--durations", default="900-2400", help="real seconds, LOW-HIGH")
    parser.add_argument("--seed", type=int, default=7, help="the simulator's draws")
    parser.add_argument("--model", type=int, help="walk N updates through the schedule, no stack")
    parser.add_argument(
        "--only", choices=sorted(SCHEDULES), help="run this schedule only (both by default)"
    )
    args = parser.parse_args()
    print(
        f"associations drawn from {args.durations} s (real), time scaled by {args.scale:g}; "
        f"{args.clusters} clusters x {args.per_cluster} objects each, back to back"
    )
    if args.model:
        _model(args)
        return 0
    chosen = {label: env for label, env in SCHEDULES.items() if args.only in (None, label)}
    ok = [_run(label, env, args) for label, env in chosen.items()]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
