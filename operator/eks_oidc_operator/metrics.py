"""Prometheus metrics of the operator, served on ``EKS_OIDC_METRICS_PORT`` (``/metrics``).

Counters only grow, so rates in PromQL answer the questions an operator of this operator asks:
how often passes run and end in which phase, how much time EKS-facing passes take, and which
warnings (EKS error codes) are being reported.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PASSES = Counter(
    "eks_oidc_passes_total",
    "Reconcile passes, by trigger (reconcile, poll, resync, finalize) and resulting phase.",
    ["trigger", "phase"],
)
PASS_SECONDS = Histogram(
    "eks_oidc_pass_seconds",
    "Duration of one reconcile pass, EKS calls included.",
    ["trigger"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
LEADER = Gauge(
    "eks_oidc_leader",
    "1 while this replica holds the leader Lease (with leader election on), else 0.",
)
EVENTS = Counter(
    "eks_oidc_events_total",
    "Kubernetes Events posted, by type and reason (for warnings: the EKS error code).",
    ["type", "reason"],
)


def record_pass(trigger: str, phase: str | None, seconds: float) -> None:
    """Count one pass and its duration."""
    PASSES.labels(trigger=trigger, phase=phase or "None").inc()
    PASS_SECONDS.labels(trigger=trigger).observe(seconds)


def record_event(type_: str, reason: str) -> None:
    """Count one posted event."""
    EVENTS.labels(type=type_, reason=reason).inc()
