"""Prometheus metrics of the operator, served on ``EKS_OIDC_METRICS_PORT`` (``/metrics``).

Counters only grow, so rates in PromQL answer how often passes run and how they end, what EKS
and STS were asked and answered (every HTTP attempt, botocore's retries included), and which
warnings are being reported. Gauges describe the objects as the API server holds them (kept
from the watch: exact across restarts, since the first list after a start sees every object,
and across deletes), so "Stalled for 30 minutes" is an alert. ``docs/metrics.md`` lists them.
"""

from __future__ import annotations

import platform
import threading
from collections import Counter as Tally
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from eks_oidc_operator import __version__, constants, revision
from eks_oidc_operator.eks.telemetry import AwsResponse
from eks_oidc_operator.reconcile.reasons import CLUSTER_UPDATE_IN_PROGRESS, UPDATE_FAILED

# `_created` series double every counter's series for a timestamp nobody alerts on.
disable_created_metrics()  # type: ignore[no-untyped-call]

PASSES = Counter(
    "eks_oidc_passes",
    "Reconcile passes, by trigger (reconcile, poll, resync, finalize, control), resulting phase "
    "and result: ok, retry (the pass asked to run again after a delay) or error (it raised).",
    ["trigger", "phase", "result"],
)
PASS_SECONDS = Histogram(
    "eks_oidc_pass_seconds",
    "Duration of one reconcile pass, EKS calls included.",
    ["trigger"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
EVENTS = Counter(
    "eks_oidc_events",
    "Kubernetes Events posted, by type and reason (for warnings: the EKS error code).",
    ["type", "reason"],
)
AWS_REQUESTS = Counter(
    "eks_oidc_aws_requests",
    "HTTP attempts of AWS calls (botocore's retries included), by service (eks, sts), "
    "operation, HTTP status ('none': no response) and error code (empty on success).",
    ["service", "operation", "status", "code", "retry"],
)
LEADER = Gauge(
    "eks_oidc_leader",
    "1 while this replica holds the leader Lease (with leader election on), else 0.",
)
REQUESTS_DEFERRED = Counter(
    "eks_oidc_requests_deferred",
    "Reconcile-now or retry requests that came within the request interval of the last one "
    "answered for that object: each is answered once the interval is up (one pass for many).",
)
TENANCY_POLICY_VALID = Gauge(
    "eks_oidc_tenancy_policy_valid",
    "1 while the tenancy policy file last read is valid; 0 when it is not (the last valid "
    "policy stays in force, or nothing is permitted if there never was one).",
)
TENANCY_WILDCARD_RULES = Gauge(
    "eks_oidc_tenancy_wildcard_rules",
    "Rules of the tenancy policy in force that grant every namespace or any role.",
)
BUILD_INFO = Gauge(
    "eks_oidc_build_info",
    "Always 1; the labels say what runs.",
    ["version", "revision", "python", "kopf", "boto3"],
)


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


BUILD_INFO.labels(
    version=__version__,
    revision=revision(),
    python=platform.python_version(),
    kopf=_version_of("kopf"),
    boto3=_version_of("boto3"),
).set(1)


def record_pass(trigger: str, phase: str | None, seconds: float, result: str = "ok") -> None:
    """Count one pass, how it ended, and its duration."""
    PASSES.labels(trigger=trigger, phase=phase or "None", result=result).inc()
    PASS_SECONDS.labels(trigger=trigger).observe(seconds)


def record_tenancy_policy(valid: bool, wildcards: int | None) -> None:
    """The tenancy policy's signals: whether the file is valid, and (when it is) its wildcard
    rules (an invalid file leaves the count of the policy still in force)."""
    TENANCY_POLICY_VALID.set(1 if valid else 0)
    if wildcards is not None:
        TENANCY_WILDCARD_RULES.set(wildcards)


def record_event(type_: str, reason: str) -> None:
    """Count one posted event."""
    EVENTS.labels(type=type_, reason=reason).inc()


def record_aws_response(response: AwsResponse) -> None:
    """Count one HTTP attempt of an AWS call."""
    AWS_REQUESTS.labels(
        service=response.service,
        operation=response.operation,
        status=response.status,
        code=response.code,
        retry="true" if response.retry else "false",
    ).inc()


@dataclass(frozen=True)
class Summary:
    """What the gauges need of one object's status."""

    phase: str
    conditions: tuple[tuple[str, str], ...]
    """``(type, status)`` of each condition."""
    in_flight: bool
    """An EKS update of the object is InProgress."""
    waiting_on: tuple[str, str] | None
    """``(region, cluster)`` when the object waits for another's update on that cluster."""
    failing: bool = False
    """Its last EKS update failed and it has not been Ready since: reported, held before an
    automatic retry, retrying, or Stalled."""


def summarise(body: Mapping[str, Any]) -> Summary:
    """Pure: the gauge-relevant facts of one object, from its body as the API server has it."""
    status = body.get("status") or {}
    conditions = tuple(
        (str(c.get("type")), str(c.get("status"))) for c in status.get("conditions") or ()
    )
    update = status.get("update") or {}
    in_flight = update.get("status") == constants.UPDATE_IN_PROGRESS
    ready: Mapping[str, Any] = next(
        (c for c in status.get("conditions") or () if c.get("type") == constants.CONDITION_READY),
        {},
    )
    return Summary(
        phase=str(status.get("phase") or "None"),
        conditions=conditions,
        in_flight=in_flight,
        waiting_on=_waiting_on(body, status, ready),
        failing=_failing(status, ready, in_flight),
    )


def _failing(status: Mapping[str, Any], ready: Mapping[str, Any], in_flight: bool) -> bool:
    """Whether the object's last update failed and it has not been Ready since: its Ready
    condition reports the failure, or an automatic retry of it is in flight. One gauge then
    stays up from the first failure to success or a human's fix, whatever the retries do, so
    an alert on it neither waits for the retries to be spent nor flaps between them."""
    if ready.get("status") == "True":
        return False
    return str(ready.get("reason", "")).startswith(UPDATE_FAILED) or (
        in_flight and bool(status.get("automaticRetries"))
    )


def _waiting_on(
    body: Mapping[str, Any], status: Mapping[str, Any], ready: Mapping[str, Any]
) -> tuple[str, str] | None:
    """``(region, cluster)`` when the Ready condition says the object waits for another's
    update on its cluster, else ``None``."""
    if ready.get("reason") != CLUSTER_UPDATE_IN_PROGRESS:
        return None
    spec = body.get("spec") or {}
    region = spec.get("region") or status.get("region") or ""
    return (region, str(spec.get("clusterName", "")))


class ObjectGauges(Collector):
    """The objects' gauges, computed at each scrape from the last summary of every object."""

    def __init__(self) -> None:
        self._objects: dict[str, Summary] = {}
        self._lock = threading.Lock()

    def seen(self, uid: str, body: Mapping[str, Any]) -> None:
        """The object as the latest watch event shows it."""
        summary = summarise(body)
        with self._lock:
            self._objects[uid] = summary

    def gone(self, uid: str) -> None:
        """The object was deleted."""
        with self._lock:
            self._objects.pop(uid, None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            objects = list(self._objects.values())
        yield from (
            _phases(objects),
            _conditions(objects),
            _in_flight(objects),
            _failing_gauge(objects),
            _waiters(objects),
        )


def _phases(objects: list[Summary]) -> GaugeMetricFamily:
    """``eks_oidc_objects``: objects by phase."""
    phases = GaugeMetricFamily(
        "eks_oidc_objects", "OidcIdentityProvider objects, by status.phase.", labels=["phase"]
    )
    for phase, count in sorted(Tally(o.phase for o in objects).items()):
        phases.add_metric([phase], count)
    return phases


def _conditions(objects: list[Summary]) -> GaugeMetricFamily:
    """``eks_oidc_object_conditions``: objects by condition type and status."""
    conditions = GaugeMetricFamily(
        "eks_oidc_object_conditions",
        "Objects by condition type (Ready, Reconciling, Stalled, IssuerVerified) and status.",
        labels=["type", "status"],
    )
    tally = Tally(c for o in objects for c in o.conditions)
    for (type_, status), count in sorted(tally.items()):
        conditions.add_metric([type_, status], count)
    return conditions


def _in_flight(objects: list[Summary]) -> GaugeMetricFamily:
    """``eks_oidc_updates_in_flight``: objects whose EKS update is InProgress."""
    in_flight = GaugeMetricFamily(
        "eks_oidc_updates_in_flight", "Objects whose EKS update is InProgress."
    )
    in_flight.add_metric([], sum(1 for o in objects if o.in_flight))
    return in_flight


def _failing_gauge(objects: list[Summary]) -> GaugeMetricFamily:
    """``eks_oidc_objects_failing``: objects whose last EKS update failed, not Ready since."""
    failing = GaugeMetricFamily(
        "eks_oidc_objects_failing",
        "Objects whose last EKS update failed and that have not been Ready since (retrying or "
        "Stalled).",
    )
    failing.add_metric([], sum(1 for o in objects if o.failing))
    return failing


def _waiters(objects: list[Summary]) -> GaugeMetricFamily:
    """``eks_oidc_gate_waiters``: objects waiting at the cluster gate, by cluster."""
    waiters = GaugeMetricFamily(
        "eks_oidc_gate_waiters",
        "Objects waiting for another object's update on the same cluster, by cluster.",
        labels=["region", "cluster"],
    )
    for (region, cluster), count in sorted(
        Tally(o.waiting_on for o in objects if o.waiting_on is not None).items()
    ):
        waiters.add_metric([region, cluster], count)
    return waiters


OBJECTS = ObjectGauges()
REGISTRY.register(OBJECTS)
