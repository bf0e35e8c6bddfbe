"""What every pass shares across objects: built once at start-up, kept in kopf's memo."""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from eks_oidc_operator import metrics
from eks_oidc_operator.oidc.discovery import IssuerChecker
from eks_oidc_operator.reconcile.plan import Event
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.timing import Timings
from eks_oidc_operator.runtime.cluster_facts import ClusterFacts
from eks_oidc_operator.runtime.crd_state import ApiCrdReader, CrdReader, FixedCrdReader
from eks_oidc_operator.runtime.pacing.aws_rate import CallPacer
from eks_oidc_operator.runtime.pacing.budget import DeletionGuard, NamespaceBudget
from eks_oidc_operator.runtime.pacing.durations import UpdateDurations
from eks_oidc_operator.runtime.pacing.gate import ClusterGate
from eks_oidc_operator.runtime.pacing.timers import Timers
from eks_oidc_operator.runtime.port import EksPort
from eks_oidc_operator.runtime.tenancy_source import PolicyReport, PolicySource, Reporter
from eks_oidc_operator.settings import OperatorSettings


class Clients(Protocol):
    """Where a pass gets its EKS client (:class:`EksClientFactory`; tests give a fake)."""

    def get(
        self,
        region: str,
        role_arn: str | None,
        *,
        external_id: str | None = None,
        session_name: str | None = None,
    ) -> EksPort: ...


_log = logging.getLogger(__name__)

EventPoster = Callable[[Mapping[str, Any], Event], None]
"""Posts one of a plan's events about the object ``body`` (the handlers give kopf's poster)."""


def no_events(body: Mapping[str, Any], event: Event) -> None:
    """Posts nothing: the poster of a runtime built without kopf (tests record instead)."""


def policy_reporter(configmap: str, post: EventPoster) -> Reporter:
    """The admin's signals of each read of the tenancy policy: a metric, and for an invalid
    file a Warning event on its ConfigMap (``namespace/name``; none when empty). The event
    carries the whole problem: only those who may read the operator's namespace see it."""

    def report(found: PolicyReport) -> None:
        metrics.record_tenancy_policy(
            found.valid, None if not found.valid else len(found.wildcards)
        )
        if found.valid or not configmap:
            return
        namespace, name = configmap.split("/", 1)
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"namespace": namespace, "name": name},
        }
        kept = "the last valid policy stays in force" if found.kept else "nothing is permitted"
        message = f"tenancy policy {found.problem}; {kept}"[:1024]
        try:
            post(body, Event(EventType.WARNING, "InvalidTenancyPolicy", message))
        except LookupError:  # outside kopf's tasks (no event queue): the log and metric remain
            _log.debug("no event queue for the tenancy policy's event")

    return report


class LazyClients:
    """The EKS client factory, built (and boto3 imported) on the first client asked for.

    boto3 and botocore are about 8 MiB of the operator's memory; an operator that has no
    objects yet never needs them.
    """

    def __init__(self, settings: OperatorSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._factory: Clients | None = None

    def get(
        self,
        region: str,
        role_arn: str | None,
        *,
        external_id: str | None = None,
        session_name: str | None = None,
    ) -> EksPort:
        with self._lock:
            if self._factory is None:
                from eks_oidc_operator.eks.factory import EksClientFactory

                settings = self._settings
                self._factory = EksClientFactory(
                    max_attempts=settings.aws_max_attempts,
                    connect_timeout=settings.aws_connect_timeout_seconds,
                    read_timeout=settings.aws_read_timeout_seconds,
                    observer=metrics.record_aws_response,
                    max_connections=settings.max_workers,
                    max_clients=settings.aws_clients,
                )
            factory = self._factory
        return factory.get(region, role_arn, external_id=external_id, session_name=session_name)


@dataclass(frozen=True)
class Runtime:
    """Long-lived collaborators of every reconcile pass."""

    settings: OperatorSettings
    clients: Clients
    timings: Timings
    gate: ClusterGate
    rng: random.Random
    default_region: str | None
    namespaces: tuple[str, ...] = ()
    """Watched namespaces; empty means all of them."""
    post_event: EventPoster = no_events
    """How events reach Kubernetes (kopf's poster; tests record them instead)."""
    tenancy: PolicySource = field(default_factory=lambda: PolicySource(None))
    """The admin's tenancy policy (the built-in default when no file is configured)."""
    issuers: IssuerChecker = field(
        default_factory=lambda: IssuerChecker(ca_file=None, timeout=5.0, ttl=60.0)
    )
    """The issuer pre-flight, with its per-issuer cache."""
    clusters: ClusterFacts = field(default_factory=lambda: ClusterFacts(ttl=600.0))
    budget: NamespaceBudget = field(
        default_factory=lambda: NamespaceBudget(burst=3000, per_second=10.0)
    )
    """Each namespace's EKS call budget."""
    pacer: CallPacer = field(default_factory=lambda: CallPacer(burst=50, per_second=10.0))
    """The operator's EKS call rate per account and region."""
    durations: UpdateDurations = field(default_factory=UpdateDurations)
    """What updates took lately: the poll schedule's windows."""
    deletions: DeletionGuard = field(default_factory=lambda: DeletionGuard(budget=10, window=600.0))
    """The mass-deletion guard."""
    crd: CrdReader = field(default_factory=FixedCrdReader)
    """Whether the CRD is being deleted, asked on deletion passes (from_settings reads the API;
    the default, for tests without one, says it is serving)."""
    """DescribeCluster answers shared by every object on a cluster, for a while."""
    timers: Timers = field(default_factory=Timers)
    """Every object's polls and drift checks (started with kopf)."""

    @classmethod
    def from_settings(
        cls,
        settings: OperatorSettings,
        namespaces: tuple[str, ...] = (),
        *,
        post_event: EventPoster = no_events,
    ) -> Runtime:
        """Build the runtime; no network call happens here (clients are made lazily)."""
        return cls(
            settings=settings,
            clients=LazyClients(settings),
            timings=settings.timings(),
            gate=ClusterGate(),
            rng=random.Random(),  # noqa: S311 - jitter, not cryptography
            default_region=_default_region(settings),
            namespaces=namespaces,
            post_event=post_event,
            tenancy=PolicySource(
                settings.tenancy_file,
                report=policy_reporter(settings.tenancy_configmap, post_event),
            ),
            issuers=IssuerChecker(
                ca_file=settings.issuer_ca_file,
                timeout=settings.issuer_timeout_seconds,
                ttl=settings.issuer_cache_seconds,
                fence=settings.issuer_fence(),
            ),
            clusters=ClusterFacts(ttl=settings.cluster_facts_seconds),
            budget=NamespaceBudget(
                burst=settings.namespace_call_burst,
                per_second=settings.namespace_calls_per_second,
            ),
            pacer=CallPacer(
                burst=settings.aws_call_burst, per_second=settings.aws_calls_per_second
            ),
            deletions=DeletionGuard(
                budget=settings.deletion_budget, window=settings.deletion_window_seconds
            ),
            crd=ApiCrdReader(),
        )


def _default_region(settings: OperatorSettings) -> str | None:
    """The region of objects that name none: the setting, else the SDK's environment."""
    return (
        settings.default_region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
    )
