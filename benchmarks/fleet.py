"""A fleet: N objects on C clusters, applied in a burst, then a restart with all of them Ready.

Starts the local control plane, the EKS simulator (each association takes
``--associate-seconds``), a local HTTPS server that answers every object's issuer as a real
issuer would, and the operator as a real process with its shipped schedule (its issuer
pre-flight on, trusting that server's CA), applies N OidcIdentityProviders at once (object i
on cluster i mod C, so ceil(N/C) queue on each cluster) and prints:

- time from the burst to all Ready, and its ratio to EKS's own ideal, S x ceil(N/C) (EKS runs
  one update per cluster at a time: no operator can beat that);
- the hand-over gap on a cluster: from one update's end to the next update's start, p50/p95;
- EKS calls (counted by the simulator) per object, by operation, and per minute per busy
  cluster (a cluster is busy from its first call to the end of its last update), and per
  minute while an update is in flight (its polling alone);
- completion -> Ready lag: from the simulator completing an object's association to the API
  server's watch delivering Ready=True, p50/p95;
- the operator's RSS (from /proc every 0.25 s): idle before the burst, peak, settled after;
- Kubernetes API writes per object: versions of it the watch delivered after the apply (each
  is one write that changed something; the apply itself is not counted);
- operator log lines per object, and how many are warnings;
- the restart: the operator stopped and started again with all N Ready: EKS calls (and
  Associates) until it is quiet, seconds until its last call, and RSS peak while resuming;
- where the CPU went, from the burst until the last Associate and until all Ready: CPU
  seconds of the operator, kube-apiserver, etcd, the simulator, the kubectl appliers (counted
  once they exit) and this script itself (the issuers it serves, the watch it reads), against
  the machine's cores: on a small machine they all share, the ratio is bounded by what the
  others take before the operator gets a core.

``--no-operator`` applies the same burst with no operator at all and prints how long it took:
the floor of the ratio on this machine, whatever the operator does. ``--unresolvable-issuers``
names hosts that do not exist instead, as the benchmark did before it served its issuers: the
pre-flight then waits on the machine's resolver, which here, with no DNS server answering,
holds a burst of lookups up to its 5-second timeout.

Usage: ``.venv/bin/python benchmarks/fleet.py --objects 1000 --clusters 100
--associate-seconds 60`` (add ``--operator-env NAME=VALUE`` to try an operator setting: the
operator is otherwise started with the shipped defaults, whatever this shell's environment)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eks_oidc_testing.burst import APPLIERS, ROLE_ACCOUNT, burst
from eks_oidc_testing.fleet_watch import Watch, percentiles, updates_by_cluster
from eks_oidc_testing.issuer import local_issuers
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.stack import Stack, local_stack

ASSOCIATE = "AssociateIdentityProviderConfig"
QUIET_SECONDS = 20.0
"""A restart is over once the simulator has counted no call for this long."""
ACCOUNT_RATE = "20/100"
"""The simulator's throttling of each account and region, RATE/BURST: an assumption (EKS
publishes none), the shape AWS's control-plane APIs commonly have (a bucket of about 100,
refilled at about 20 a second), twice the operator's default pacing."""


@contextmanager
def _every(seconds: float, look: Callable[[], None]) -> Iterator[None]:
    """Call ``look`` on a thread every ``seconds`` while the block runs, and once at its end."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            look()
            stop.wait(seconds)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        look()


@dataclass
class RssSampler:
    """The peak RSS of the operator while the block runs."""

    operator: OperatorProcess
    peak: float = 0.0

    def _look(self) -> None:
        self.peak = max(self.peak, self.operator.rss_mib())

    @contextmanager
    def running(self) -> Iterator[RssSampler]:
        with _every(0.25, self._look):
            yield self


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command's closing parenthesis: state is field 3, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, from /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSampler:
    """Cumulative CPU seconds of the stack's processes, four times a second, so the CPU spent up to
    any moment of the run can be read afterwards."""

    pids: dict[str, int]
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def _look(self) -> None:
        now = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        now["kubectl"] = children.ru_utime + children.ru_stime
        mine = resource.getrusage(resource.RUSAGE_SELF)
        now["this script (issuers, watch)"] = mine.ru_utime + mine.ru_stime
        now["machine"] = _machine_busy_seconds()
        self.samples.append((time.time(), now))

    @contextmanager
    def running(self) -> Iterator[CpuSampler]:
        with _every(0.25, self._look):
            yield self

    def spent(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds of each process between the samples nearest ``start`` and ``end``."""
        first = min(self.samples, key=lambda s: abs(s[0] - start))[1]
        last = min(self.samples, key=lambda s: abs(s[0] - end))[1]
        return {name: last[name] - first[name] for name in last}


def _cpu_line(label: str, spent: dict[str, float], seconds: float) -> str:
    cores = os.cpu_count() or 1
    parts = ", ".join(f"{k} {v:.1f}" for k, v in spent.items() if k != "machine")
    machine = spent.get("machine", 0.0)
    return (
        f"CPU seconds {label} ({seconds:.1f} s, {cores} cores, so {seconds * cores:.0f} "
        f"available): {parts}; machine busy {machine:.1f} ({machine / (seconds * cores):.0%})"
    )


def _start_delays(
    updates: dict[str, list[dict[str, Any]]], added_at: dict[str, float]
) -> list[float]:
    """From the watch first showing an object to EKS creating its first update: the
    operator's own delay in starting it (for a queued object, its wait for its turn too)."""
    delays = []
    for ordered in updates.values():
        for update in ordered:
            name = update["config_name"]
            if update["type"] == ASSOCIATE and name in added_at:
                delays.append(update["created_at"] - added_at[name])
    return delays


def _handover_gaps(updates: dict[str, list[dict[str, Any]]]) -> list[float]:
    gaps = []
    for ordered in updates.values():
        for before, after in itertools.pairwise(ordered):
            gaps.append(after["created_at"] - before["completes_at"])
    return gaps


def _ready_lags(
    updates: dict[str, list[dict[str, Any]]], ready_at: dict[str, float]
) -> list[float]:
    lags = []
    for ordered in updates.values():
        for update in ordered:
            name = update["config_name"]
            done = update["type"] == ASSOCIATE and update["status"] == "Successful"
            if done and name in ready_at:
                lags.append(ready_at[name] - update["completes_at"])
    return lags


def _per_busy_cluster_minute(
    journal: list[dict[str, Any]], updates: dict[str, list[dict[str, Any]]]
) -> tuple[float, float]:
    """Mean and max over clusters of EKS calls per minute while the cluster was busy."""
    by_cluster: dict[str, list[float]] = defaultdict(list)
    for call in journal:
        if call.get("cluster"):
            by_cluster[call["cluster"]].append(call["at"])
    rates = []
    for cluster, times in by_cluster.items():
        ends = [u["completes_at"] for u in updates.get(cluster, [])]
        if not ends:
            continue
        start, end = min(times), max(ends)
        inside = [t for t in times if start <= t <= end]
        if end > start:
            rates.append(len(inside) / ((end - start) / 60))
    return (statistics.mean(rates), max(rates)) if rates else (0.0, 0.0)


STARTS = ("AssociateIdentityProviderConfig", "DisassociateIdentityProviderConfig")


def _per_in_flight_minute(
    journal: list[dict[str, Any]], updates: dict[str, list[dict[str, Any]]]
) -> float:
    """EKS calls per minute on a cluster while one of its updates is in flight (from EKS
    creating it to EKS completing it): the polling cost of an update, without the calls that
    start and finish one."""
    by_cluster: dict[str, list[float]] = defaultdict(list)
    for call in journal:
        # The call that starts an update is journaled as it answers, just after the update's
        # creation: it opens the window, it is not a call made while the update runs.
        if call.get("cluster") and call["operation"] not in STARTS:
            by_cluster[call["cluster"]].append(call["at"])
    inside, minutes = 0, 0.0
    for cluster, ordered in updates.items():
        for update in ordered:
            start, end = update["created_at"], update["completes_at"]
            inside += sum(1 for t in by_cluster.get(cluster, ()) if start < t < end)
            minutes += (end - start) / 60
    return inside / minutes if minutes else 0.0


def _log_lines(log: Path, since: int) -> tuple[int, int]:
    lines = log.read_bytes()[since:].decode(errors="replace").splitlines()
    return len(lines), sum(" WARNING " in line or '"WARNING"' in line for line in lines)


def _wait_quiet(stack: Stack, limit: float) -> float:
    """Seconds from now until the last EKS call before a quiet spell of QUIET_SECONDS."""
    started = time.monotonic()
    last_total, last_change = -1, started
    while time.monotonic() - started < limit:
        total = sum(stack.sim.calls_by_operation().values())
        if total != last_total:
            last_total, last_change = total, time.monotonic()
        elif time.monotonic() - last_change >= QUIET_SECONDS:
            break
        time.sleep(1.0)
    return last_change - started


def _restart(
    stack: Stack,
    operator: OperatorProcess,
    objects: int,
    env: dict[str, str],
    resync: float | None,
) -> None:
    """Stop the operator and start it again with every object Ready; print what it costs
    until it is quiet, or, with ``resync``, until every object has had its first look."""
    operator.stop()
    stack.sim.reset_stats()
    since = operator.log_path.stat().st_size
    if resync is not None:
        env = {**env, "EKS_OIDC_RESYNC_SECONDS": str(resync)}
    started = time.time()
    again = stack.operator(env)
    with RssSampler(again).running() as rss:
        if resync is None:
            quiet = _wait_quiet(stack, limit=600)
        else:
            quiet = _wait_looks(stack, objects, limit=1.5 * resync + 120)
    operations = stack.sim.calls_by_operation()
    journal = stack.sim.requests()
    lines, warnings = _log_lines(again.log_path, since)
    again.stop()
    calls = sum(operations.values())
    looks = sorted(c["at"] for c in journal if c["operation"] == "DescribeIdentityProviderConfig")
    # A settled object's first look is one DescribeIdentityProviderConfig; name the clusters of
    # anything else, so a restart that does more can be followed up in the operator's log.
    other = sorted(
        {str(c["cluster"]) for c in journal if c["operation"] != "DescribeIdentityProviderConfig"}
    )
    last_look = f"{looks[objects - 1] - started:.1f} s" if len(looks) >= objects else "not seen"
    print(
        f"restart with {objects} Ready: {operations.get(ASSOCIATE, 0)} Associate, {calls} EKS "
        f"calls ({calls / objects:.2f} per object) {dict(sorted(operations.items()))}; "
        f"last call {quiet:.1f} s after start; every object's first look after: {last_look}"
        + (f" (resync {resync:g} s)" if resync is not None else "")
        + f"; peak {_peak_rate(journal):.0f} calls in one second, {_throttled(stack)} answered "
        f"429; RSS peak {rss.peak:.0f} MiB; {lines} log lines ({warnings} warnings)"
        + (f"; other calls on {len(other)} cluster(s): {', '.join(other[:8])}" if other else "")
    )


def _wait_looks(stack: Stack, objects: int, limit: float) -> float:
    """Seconds from now until every object's config was described once (its first look)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if stack.sim.calls_by_operation().get("DescribeIdentityProviderConfig", 0) >= objects:
            break
        time.sleep(1.0)
    return time.monotonic() - started


def _ideal(updates: dict[str, list[dict[str, Any]]]) -> float:
    """EKS's own time: the busiest cluster's associations end to end (no operator can finish
    sooner, since EKS runs one update per cluster at a time)."""
    return max(
        (
            sum(u["completes_at"] - u["created_at"] for u in ordered if u["type"] == ASSOCIATE)
            for ordered in updates.values()
        ),
        default=0.0,
    )


def _throttled(stack: Stack) -> int:
    """EKS calls the simulator answered 429 since its counters were last reset."""
    return sum(by.get("429", 0) for by in stack.sim.stats()["operations"].values())


def _peak_rate(journal: list[dict[str, Any]]) -> float:
    """The most EKS calls made within any one second."""
    times = sorted(c["at"] for c in journal if c["operation"] != "AssumeRole")
    peak, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] > 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return float(peak)


def _not_ready(stack: Stack, watch: Watch, objects: int) -> None:
    """Name the objects never seen Ready (a few), with what their Ready condition says."""
    missing = [f"fleet-{i}" for i in range(objects) if f"fleet-{i}" not in watch.ready_at]
    for name in missing[:5]:
        body = json.loads(stack.kubectl("get", f"oidcidp/{name}", "-n", "default", "-o", "json"))
        ready = [c for c in body.get("status", {}).get("conditions", []) if c["type"] == "Ready"]
        print(f"not Ready: {name}: {ready}")


def _where_the_time_goes(
    updates: dict[str, list[dict[str, Any]]],
    watch: Watch,
    cpu: CpuSampler,
    started: float,
    elapsed: float,
) -> None:
    """When the objects appeared and their associations started and ended, and the CPU each
    process took until then."""
    every = [u for ordered in updates.values() for u in ordered]
    last_added = max(watch.added_at.values(), default=started) - started
    last_done = max((u["completes_at"] for u in every), default=started)
    print(
        f"where the time goes: the last object appeared {last_added:.1f} s into the burst; "
        f"appeared -> its Associate: {percentiles(_start_delays(updates, watch.added_at))}; "
        f"the last association completed {last_done - started:.1f} s into the burst"
    )
    first_start = min((u["created_at"] for u in every), default=started)
    last_start = max((u["created_at"] for u in every), default=started)
    for label, end in (
        ("burst -> first Associate", first_start),
        ("burst -> last Associate", last_start),
        ("burst -> all Ready", started + elapsed),
    ):
        print(_cpu_line(label, cpu.spent(started, end), end - started))


def _floor(stack: Stack, n: int, c: int, ideal: float) -> int:
    """The burst applied with no operator running, and the ratio it alone costs: even an
    operator that took no time would start the last association once its object exists."""
    pids = {"kube-apiserver": stack.plane.apiserver_pid, "etcd": stack.plane.etcd_pid}
    with Watch(stack).running() as watch, CpuSampler(pids).running() as cpu:
        started = time.time()
        burst(stack, n, c)
        applied = time.time() - started
        while len(watch.added_at) < n and time.time() - started < 300:
            time.sleep(0.1)
    last = max(watch.added_at.values(), default=started) - started
    print(
        f"{n} objects applied with no operator ({APPLIERS} kubectl side by side) in "
        f"{applied:.1f} s; the last one reached a watch {last:.1f} s after the burst began: "
        f"a ratio of at least {(last + ideal) / ideal:.3f} before any operator work"
    )
    print(_cpu_line("of the apply", cpu.spent(started, started + applied), applied))
    return 0 if len(watch.added_at) == n else 1


def _operator_env(env: dict[str, str], ca_file: Path, policy: Path | None) -> None:
    """The operator's settings for the run, where ``--operator-env`` gave none."""
    env.setdefault("EKS_OIDC_ISSUER_CA_FILE", str(ca_file))
    env.setdefault("EKS_OIDC_ISSUER_ALLOW_CIDRS", "127.0.0.1/32")  # the local issuers
    if policy is not None:
        env.setdefault("EKS_OIDC_TENANCY_FILE", str(policy))


def _roles_policy(workdir: Path) -> Path:
    """A tenancy policy that grants the fleet's roles (and the operator's own identity)."""
    policy = {
        "rules": [
            {
                "name": "fleet-roles",
                "namespaces": ["*"],
                "roleArns": [f"arn:aws:iam::{ROLE_ACCOUNT}:role/fleet-role-*"],
                "adopt": True,
            },
            {"name": "single-team", "namespaces": ["*"], "operatorIdentity": True, "adopt": True},
        ]
    }
    path = workdir / "fleet-tenancy.yaml"
    path.write_text(json.dumps(policy))
    return path


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=100)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument(
        "--associate-seconds",
        default="60",
        help="seconds each association takes in the simulator, or a LOW-HIGH range drawn "
        "uniformly (EKS's ideal is then measured from the durations drawn)",
    )
    parser.add_argument(
        "--regions",
        type=int,
        default=1,
        help="spread the clusters over this many regions (spec.region; at most 10): the "
        "operator paces its EKS calls per account and region, as EKS throttles",
    )
    parser.add_argument(
        "--account-rate",
        default=ACCOUNT_RATE,
        help="the simulator throttles each account and region like a token bucket, RATE/BURST "
        f"(default {ACCOUNT_RATE}, an assumption: EKS publishes none; 'off' for no limit)",
    )
    parser.add_argument(
        "--restart-resync",
        type=float,
        help="the restarted operator's drift-check interval (EKS_OIDC_RESYNC_SECONDS), so that "
        "every settled object's first look falls inside the restart's window",
    )
    parser.add_argument(
        "--operator-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an operator setting for this run (repeatable), e.g. EKS_OIDC_API_CONNECTIONS=8",
    )
    parser.add_argument(
        "--unresolvable-issuers",
        action="store_true",
        help="issuers on hosts that do not exist (the pre-flight then measures the resolver) "
        "instead of served ones the pre-flight verifies",
    )
    parser.add_argument(
        "--roles",
        type=int,
        default=0,
        help="spread the objects over this many roles (spec.roleArn, assumed through the "
        "simulator's STS): the clients and credentials a fleet over many roles costs",
    )
    parser.add_argument(
        "--no-operator",
        action="store_true",
        help="apply the burst with no operator running: the floor the machine sets on the ratio",
    )
    return parser.parse_args()


def _report(
    stack: Stack,
    args: argparse.Namespace,
    watch: Watch,
    cpu: CpuSampler,
    started: float,
    elapsed: float,
) -> None:
    """Print the burst's figures: time, hand-over, lag, EKS calls and writes."""
    n, c = args.objects, min(args.clusters, args.objects)
    operations = stack.sim.calls_by_operation()
    assumed = operations.pop("AssumeRole", 0)  # STS's, not EKS's
    journal = stack.sim.requests()
    updates = updates_by_cluster(stack)
    ideal = _ideal(updates)
    calls = sum(operations.values())
    busy_mean, busy_max = _per_busy_cluster_minute(journal, updates)
    print(
        f"{n} objects on {c} clusters ({math.ceil(n / c)} per cluster) in {args.regions} "
        f"region(s), associations of {args.associate_seconds} s, shipped schedule; issuers "
        + ("on hosts that do not exist" if args.unresolvable_issuers else "served, each verified")
    )
    print(
        f"all Ready after {elapsed:.1f} s ({len(watch.ready_at)}/{n} Ready); EKS's ideal "
        f"{ideal:.1f} s (its busiest cluster's updates end to end); ratio "
        f"{elapsed / ideal if ideal else 0:.3f}"
        + (f" (the watch was restarted {watch.restarts} times)" if watch.restarts else "")
    )
    print(f"hand-over gap on a cluster: {percentiles(_handover_gaps(updates))}")
    _where_the_time_goes(updates, watch, cpu, started, elapsed)
    print(f"completion -> Ready lag: {percentiles(_ready_lags(updates, watch.ready_at))}")
    per_object = {op: round(k / n, 2) for op, k in sorted(operations.items())}
    print(f"EKS calls: {calls / n:.2f} per object {per_object}")
    print(
        f"EKS throttled the operator: {_throttled(stack)} calls answered 429 (the simulator's "
        f"account rate: {args.account_rate}); peak {_peak_rate(journal):.0f} calls in one second"
    )
    if args.roles:
        print(
            f"STS AssumeRole calls: {assumed} for {args.roles} roles and {n} objects "
            f"({assumed / n:.2f} per object; each object's session name is its own)"
        )
    print(
        f"EKS calls per minute per busy cluster: mean {busy_mean:.2f}, max {busy_max:.2f} "
        f"(all calls on the cluster, first call to last update's end); while an update is "
        f"in flight: {_per_in_flight_minute(journal, updates):.2f}"
    )
    print(f"Kubernetes API writes per object: {sum(watch.writes.values()) / n:.2f}")


def main() -> int:
    """Run the measurement and print the figures."""
    args = _arguments()
    env = dict(item.split("=", 1) for item in args.operator_env)
    n, c, s = args.objects, min(args.clusters, args.objects), args.associate_seconds
    low, _, high = s.partition("-")
    longest = float(high or low) * math.ceil(n / c)  # the ideal if every draw is the longest
    clusters = [f"fleet-c{i}" for i in range(c)]
    options: dict[str, Any] = {"associate_seconds": s, "clusters": clusters}
    if args.account_rate != "off":
        options["account_rate"] = args.account_rate
    with (
        local_stack(journal_size=100 * n + 10_000, **options) as stack,
        local_issuers(stack.workdir) as served,
    ):
        if args.no_operator:
            return _floor(stack, n, c, longest)
        issuers = None if args.unresolvable_issuers else f"{served.base}/tenant"
        _operator_env(env, served.ca_file, _roles_policy(stack.workdir) if args.roles else None)
        operator = stack.operator(env)
        time.sleep(5.0)  # settled after start-up, no objects yet
        idle = operator.rss_mib()
        stack.sim.reset_stats()
        log_start = operator.log_path.stat().st_size
        assert operator.process is not None
        pids = {
            "operator": operator.process.pid,
            "kube-apiserver": stack.plane.apiserver_pid,
            "etcd": stack.plane.etcd_pid,
            "simulator": stack.sim.process.pid,
        }
        with (
            Watch(stack).running() as watch,
            RssSampler(operator).running() as rss,
            CpuSampler(pids).running() as cpu,
        ):
            started = time.time()
            burst(stack, n, c, issuers, args.roles, args.regions)
            applied = time.time() - started
            deadline = time.monotonic() + longest * 3 + 300
            while len(watch.ready_at) < n and time.monotonic() < deadline:
                time.sleep(0.5)
            elapsed = max(watch.ready_at.values(), default=time.time()) - started
            time.sleep(10.0)  # the last passes' writes and log lines land
        settled = operator.rss_mib()
        _report(stack, args, watch, cpu, started, elapsed)
        print(f"operator RSS: {idle:.0f} MiB idle, {rss.peak:.0f} MiB peak, {settled:.0f} settled")
        lines, warnings = _log_lines(operator.log_path, log_start)
        print(f"operator log lines: {lines / n:.2f} per object ({warnings} warnings in all)")
        print(f"the burst took {applied:.1f} s to apply ({APPLIERS} kubectl side by side)")
        _not_ready(stack, watch, n)
        _restart(stack, operator, n, env, args.restart_resync)
    return 0 if len(watch.ready_at) == n else 1


if __name__ == "__main__":
    sys.exit(main())
