"""Every knob of the operator, from ``EKS_OIDC_*`` environment variables (or Helm values).

Read once, at start-up, by the CLI, which builds the runtime's services from it
(:mod:`eks_oidc_operator.runtime.services`); everything else gets plain values, never this
module (import-linter enforces it). AWS itself is configured the
standard way (credential chain, ``AWS_REGION``, ``AWS_ENDPOINT_URL_EKS``), not here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eks_oidc_operator.election.lease import LeaseTimings
from eks_oidc_operator.models import IssuerCheckMode
from eks_oidc_operator.oidc.fence import IssuerFence, parse_cidrs
from eks_oidc_operator.reconcile.timing import Timings

_DEFAULT = Timings()
"""The delays' defaults are written once, in :class:`Timings`; the settings take them from it."""


class OperatorSettings(BaseSettings):
    """The operator's configuration. Durations are in seconds."""

    model_config = SettingsConfigDict(env_prefix="EKS_OIDC_", extra="forbid", frozen=True)

    default_region: str | None = Field(
        default=None,
        description="Region for objects without spec.region; else AWS_REGION / AWS_DEFAULT_REGION.",
    )
    management_cluster: str = Field(
        default="",
        max_length=256,
        description=(
            "Name of the management cluster, written in the ownership tag of every config, so "
            "two management clusters never take each other's configs for their own."
        ),
    )
    tenancy_file: str | None = Field(
        default=None,
        description=(
            "YAML file of the tenancy policy (chart: rendered from tenancy.rules). Unset: "
            "nothing is permitted."
        ),
    )
    tenancy_configmap: str = Field(
        default="",
        pattern=r"^([a-z0-9-]+/[a-z0-9.-]+)?$",
        description=(
            "namespace/name of the ConfigMap the policy file comes from (set by the chart): an "
            "invalid policy is reported as a Warning event on it."
        ),
    )
    issuer_check: IssuerCheckMode = Field(
        default=IssuerCheckMode.ENFORCE,
        description="Issuer pre-flight for objects without spec.issuerCheck: Enforce, Warn, Skip.",
    )
    issuer_ca_file: str | None = Field(
        default=None,
        description="PEM bundle of extra CAs the issuer pre-flight trusts (private CAs).",
    )
    issuer_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="Bound of each fetch of the pre-flight (document, keys).",
    )
    issuer_allow_cidrs: str = Field(
        default="",
        description=(
            "Comma-separated CIDRs the issuer pre-flight may fetch from although they are not "
            "public (loopback, link-local, private ranges); default none."
        ),
    )
    issuer_deny_cidrs: str = Field(
        default="",
        description=(
            "Comma-separated CIDRs the issuer pre-flight never fetches from, allowed or public "
            "(a cluster's service and pod ranges when they are not private); default none."
        ),
    )
    issuer_cache_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long one pre-flight answers for every object on that issuer.",
    )
    request_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "A reconcile-now or retry request is answered at most once per this interval per "
            "object; later ones wait for its end (0: every request at once)."
        ),
    )
    namespace_call_burst: int = Field(
        default=3000,
        ge=1,
        description=(
            "EKS calls one namespace may make at once in an account and region before its "
            "budget must refill."
        ),
    )
    namespace_calls_per_second: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Refill of each namespace's EKS call budget in an account and region, in calls per "
            "second: a tenant's share of the operator's own rate there (awsCallsPerSecond, "
            "which paces every call); set it lower to keep one tenant from taking all of it."
        ),
    )
    # EKS publishes no API rate; AWS's control-plane APIs typically allow bursts of about 100
    # and refills of about 20 a second per account and region. Half that, so the operator
    # leaves room for people and other tools in the same account.
    aws_call_burst: int = Field(
        default=50,
        ge=1,
        description=(
            "EKS calls the operator makes at once per account and region before it paces "
            "itself (a token bucket; calls wait their turn, none is refused)."
        ),
    )
    aws_calls_per_second: float = Field(
        default=10.0,
        gt=0,
        description=(
            "EKS calls per second the operator makes at most per account and region once "
            "its burst is spent (the bucket's refill): keep it below EKS's throttling."
        ),
    )
    deletion_budget: int = Field(
        default=10,
        ge=0,
        description=(
            "Disassociations of deleted objects allowed per deletion window, operator-wide; more "
            "wait (finalizer held) unless confirmed (0: none without confirmation)."
        ),
    )
    deletion_window_seconds: float = Field(
        default=600.0,
        gt=0,
        description="The mass-deletion guard's window.",
    )
    cluster_facts_seconds: float = Field(
        default=600.0,
        ge=0,
        description=(
            "How long one DescribeCluster answers for every object on that cluster (0: ask at "
            "every pass)."
        ),
    )
    poll_initial_seconds: float = Field(
        default=_DEFAULT.poll_initial, gt=0, description="First poll of an update."
    )
    poll_factor: float = Field(
        default=_DEFAULT.poll_factor, ge=1, description="Growth of the poll interval."
    )
    poll_max_seconds: float = Field(
        default=_DEFAULT.poll_max,
        gt=0,
        description="Poll interval cap: bounds the EKS-done-to-Ready lag.",
    )
    poll_near_seconds: float = Field(
        default=_DEFAULT.poll_near,
        gt=0,
        description=(
            "Poll interval inside the window recent updates of the account and region ended "
            "in (at most the poll interval cap): the lag bound once a window is learned."
        ),
    )
    poll_window_samples: int = Field(
        default=_DEFAULT.poll_window_samples,
        ge=0,
        description=(
            "Updates that must have ended in an account and region before the poll schedule "
            "uses their window (0: never; polls follow the first schedule only)."
        ),
    )
    retry_base_seconds: float = Field(
        default=_DEFAULT.retry_base, gt=0, description="First transient retry."
    )
    retry_max_seconds: float = Field(
        default=_DEFAULT.retry_max, gt=0, description="Transient retry cap."
    )
    slow_retry_base_seconds: float = Field(
        default=_DEFAULT.slow_retry_base,
        gt=0,
        description="First retry of errors a human fixes (IAM, quotas).",
    )
    slow_retry_max_seconds: float = Field(
        default=_DEFAULT.slow_retry_max, gt=0, description="Slow retry cap."
    )
    jitter: float = Field(
        default=_DEFAULT.jitter, ge=0, le=1, description="Random spread of retries (+/-)."
    )
    resync_seconds: float = Field(
        default=_DEFAULT.resync, gt=0, description="Drift check of settled objects (jittered)."
    )
    claim_settle_seconds: float = Field(
        default=_DEFAULT.claim_settle,
        ge=0,
        description=(
            "A new object waits this long after its creation before its first Associate, so "
            "objects naming the same config created in the same second all count."
        ),
    )
    aws_max_attempts: int = Field(
        default=3, ge=1, description="botocore attempts per call (standard retry mode)."
    )
    aws_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    aws_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # 16: each TLS connection keeps a 128 KiB read buffer and OpenSSL's state for its life; at
    # 32 a 1,000-object burst held about 8 MiB of them; at 16 the burst took about as long.
    api_connections: int = Field(
        default=16,
        ge=1,
        description=(
            "Connections to the Kubernetes API for requests at most (each watch has its own "
            "on top); more requests wait for a free one."
        ),
    )
    # 64: a client is about 350 KiB; objects with a role each have their own (the session name
    # names the object), so a fleet over many roles would otherwise hold one per object.
    aws_clients: int = Field(
        default=64,
        ge=1,
        description=(
            "EKS clients kept at most (one per region, role and session name), least recently "
            "used first out; assumed roles' credentials are kept for 16 times as many, so a "
            "rebuilt client does not assume its role again."
        ),
    )
    max_workers: int = Field(
        default=16, ge=1, description="Threads for blocking EKS calls (boto3 is synchronous)."
    )
    liveness_port: int = Field(default=8080, ge=0, le=65535, description="0 disables /healthz.")
    metrics_port: int = Field(default=9090, ge=0, le=65535, description="0 disables /metrics.")
    log_format: Literal["plain", "json"] = Field(
        default="plain",
        description="plain: text, lines about an object prefixed [namespace/name]; json: JSON.",
    )
    leader_election: bool = Field(
        default=False,
        description="Run as one of several replicas: only the holder of a Lease acts.",
    )
    leader_election_namespace: str | None = Field(
        default=None,
        description="Namespace of the Lease; default: POD_NAMESPACE, else 'default'.",
    )
    leader_election_name: str = Field(default="eks-oidc-operator", min_length=1)
    lease_duration_seconds: float = Field(
        default=15.0, gt=0, description="A lease not renewed for this long may be taken."
    )
    renew_deadline_seconds: float = Field(
        default=10.0, gt=0, description="A leader that cannot renew for this long stops."
    )
    retry_period_seconds: float = Field(
        default=2.0, gt=0, description="How often candidates try, and the leader renews."
    )

    @model_validator(mode="after")
    def _allowed_ranges_parse(self) -> OperatorSettings:
        self.issuer_fence()  # raises naming the entry that is not a CIDR
        return self

    def issuer_fence(self) -> IssuerFence:
        """Where the issuer pre-flight may connect: public addresses, and the allowed ranges."""
        try:
            allow = parse_cidrs(self.issuer_allow_cidrs)
        except ValueError as error:
            raise ValueError(f"EKS_OIDC_ISSUER_ALLOW_CIDRS: {error}") from error
        try:
            deny = parse_cidrs(self.issuer_deny_cidrs)
        except ValueError as error:
            raise ValueError(f"EKS_OIDC_ISSUER_DENY_CIDRS: {error}") from error
        return IssuerFence(allow, deny)

    @model_validator(mode="after")
    def _lease_timings_in_order(self) -> OperatorSettings:
        self.lease_timings()  # raises with the three values when out of order
        return self

    def lease_timings(self) -> LeaseTimings:
        """The election's durations (retry period < renew deadline < lease duration)."""
        return LeaseTimings(
            lease_duration=self.lease_duration_seconds,
            renew_deadline=self.renew_deadline_seconds,
            retry_period=self.retry_period_seconds,
        )

    def timings(self) -> Timings:
        """The decision code's view of the delays."""
        return Timings(
            poll_initial=self.poll_initial_seconds,
            poll_factor=self.poll_factor,
            poll_max=self.poll_max_seconds,
            poll_near=self.poll_near_seconds,
            poll_window_samples=self.poll_window_samples,
            retry_base=self.retry_base_seconds,
            retry_max=self.retry_max_seconds,
            slow_retry_base=self.slow_retry_base_seconds,
            slow_retry_max=self.slow_retry_max_seconds,
            jitter=self.jitter,
            resync=self.resync_seconds,
            claim_settle=self.claim_settle_seconds,
        )
