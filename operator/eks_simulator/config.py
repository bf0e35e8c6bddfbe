"""Runtime configuration: durations per operation, limits, and the two timing profiles.

Everything here is plain data (pydantic models) so the same objects come from CLI flags,
from ``POST /_sim/config`` and from the state file. Durations are ranges: a fixed duration
is a range with ``low == high``; the realistic profile draws uniformly inside its range
(the "jitter"), from the simulator's seeded random generator.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from eks_simulator.throttle import AccountRate

TimingKey = Literal[
    "create_cluster_seconds",
    "delete_cluster_seconds",
    "associate_seconds",
    "disassociate_seconds",
    "failed_config_gc_seconds",
]
"""The lifecycle steps whose duration is configurable."""

ProfileName = Literal["fast", "realistic"]


class _CamelModel(BaseModel):
    """Base: camelCase on the wire (JSON control API, state file), snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class DurationRange(BaseModel):
    """A duration in seconds, drawn uniformly from ``[low, high]``.

    Accepts ``5``, ``[900, 2400]`` or ``{"low": 900, "high": 2400}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number_or_pair(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"low": value, "high": value}
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"low": value[0], "high": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DurationRange:
        if self.high < self.low:
            msg = f"duration range high ({self.high}) is below low ({self.low})"
            raise ValueError(msg)
        return self

    def sample(self, rng: random.Random) -> float:
        """One duration from the range (exactly ``low`` when the range is a point)."""
        if self.high == self.low:
            return self.low
        return rng.uniform(self.low, self.high)


class Timings(_CamelModel):
    """How long each lifecycle step takes, in simulated seconds."""

    create_cluster_seconds: DurationRange
    delete_cluster_seconds: DurationRange
    associate_seconds: DurationRange
    disassociate_seconds: DurationRange
    failed_config_gc_seconds: DurationRange
    """How long a config whose association failed lingers (still CREATING) before AWS
    garbage-collects it (docs/eks-behaviour.md §4.1; the real window is unknown)."""

    def get(self, key: TimingKey) -> DurationRange:
        """The range for one step."""
        value: DurationRange = getattr(self, key)
        return value


class TimingOverrides(_CamelModel):
    """A partial :class:`Timings`: only the steps given replace the defaults."""

    create_cluster_seconds: DurationRange | None = None
    delete_cluster_seconds: DurationRange | None = None
    associate_seconds: DurationRange | None = None
    disassociate_seconds: DurationRange | None = None
    failed_config_gc_seconds: DurationRange | None = None

    def _given(self) -> dict[str, DurationRange]:
        # Attribute access, not model_dump(): dumping would turn the ranges into plain
        # dicts, and model_copy(update=...) does not validate them back.
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: value for name, value in values.items() if value is not None}

    def apply_to(self, base: Timings) -> Timings:
        """``base`` with every step set here replaced."""
        return base.model_copy(update=self._given())

    def merged_over(self, older: TimingOverrides) -> TimingOverrides:
        """These overrides laid over ``older`` ones."""
        return older.model_copy(update=self._given())


def _d(low: float, high: float | None = None) -> DurationRange:
    return DurationRange(low=low, high=low if high is None else high)


PROFILES: dict[ProfileName, Timings] = {
    # Fast: every step finishes within a few seconds of wall time, fixed (no jitter) so
    # tests can reason exactly about when a transition happens.
    "fast": Timings(
        create_cluster_seconds=_d(1),
        delete_cluster_seconds=_d(1),
        associate_seconds=_d(2),
        disassociate_seconds=_d(2),
        failed_config_gc_seconds=_d(10),
    ),
    # Realistic: the durations observed on real EKS (docs/eks-behaviour.md §3.5): ~10 min to
    # create a cluster, 15-40 min per association or disassociation, with jitter.
    "realistic": Timings(
        create_cluster_seconds=_d(540, 720),
        delete_cluster_seconds=_d(300, 600),
        associate_seconds=_d(900, 2400),
        disassociate_seconds=_d(900, 2400),
        failed_config_gc_seconds=_d(1800, 3600),
    ),
}


class SimConfig(_CamelModel):
    """The simulator's whole runtime configuration."""

    region: str = "us-west-2"
    """Region used in every ARN, issuer and endpoint (the simulator serves one region)."""
    account_id: str = "123456789012"
    partition: str = "aws"
    default_kubernetes_version: str = "1.33"
    timings: Timings = Field(default_factory=lambda: PROFILES["fast"].model_copy())
    cluster_timings: dict[str, TimingOverrides] = Field(default_factory=dict)
    """Per-cluster overrides of :attr:`timings`, keyed by cluster name."""
    provider_limit: int | None = Field(default=None, ge=0)
    """Identity providers per cluster; ``None`` means by version (1 below 1.32, else 10)."""
    config_size_limit_bytes: int = Field(default=12 * 1024, ge=0)
    """Combined size of a cluster's provider configs (the documented "12 KB")."""
    cluster_limit: int = Field(default=100, ge=0)
    """Clusters per account and region accepted by CreateCluster (the default AWS quota)."""
    legacy_idp_list_max_results: bool = False
    """Reproduce 2022 EKS: ListIdentityProviderConfigs on clusters below 1.32 rejects
    any ``maxResults`` other than 1 with "maxResults needs to be 1"."""
    fetch_issuers: bool = False
    """Fetch each associated issuer's discovery document and key set, as EKS does, and fail
    the association when that fails (docs/eks-behaviour.md §3.7). Off by default: it needs
    issuers the simulator can reach, which most tests do not have."""
    issuer_ca_file: str | None = None
    """A PEM bundle trusted for those fetches besides the system's CAs (test issuers have a
    private CA)."""
    account_rate: AccountRate | None = None
    """EKS calls each account may make (a token bucket, :mod:`eks_simulator.throttle`); more
    are answered 429 ``ThrottlingException``. ``None``: no limit."""

    def timings_for(self, cluster: str) -> Timings:
        """Effective timings for one cluster."""
        override = self.cluster_timings.get(cluster)
        return self.timings if override is None else override.apply_to(self.timings)


class ConfigPatch(_CamelModel):
    """Body of ``POST /_sim/config``: every field optional; flat timing keys for convenience.

    Example: ``{"associateSeconds": 60, "clusters": {"prod": {"disassociateSeconds": 5}}}``.
    """

    profile: ProfileName | None = None
    create_cluster_seconds: DurationRange | None = None
    delete_cluster_seconds: DurationRange | None = None
    associate_seconds: DurationRange | None = None
    disassociate_seconds: DurationRange | None = None
    failed_config_gc_seconds: DurationRange | None = None
    clusters: dict[str, TimingOverrides] | None = None
    provider_limit: int | None = Field(default=None, ge=0)
    clear_provider_limit: bool = False
    config_size_limit_bytes: int | None = Field(default=None, ge=0)
    cluster_limit: int | None = Field(default=None, ge=0)
    legacy_idp_list_max_results: bool | None = None
    fetch_issuers: bool | None = None
    issuer_ca_file: str | None = None
    clear_issuer_ca_file: bool = False
    account_rate: AccountRate | None = None
    clear_account_rate: bool = False

    def apply(self, config: SimConfig) -> SimConfig:
        """A new configuration with this patch applied (the input is not modified)."""
        timings = PROFILES[self.profile].model_copy() if self.profile else config.timings
        step_overrides = TimingOverrides(
            create_cluster_seconds=self.create_cluster_seconds,
            delete_cluster_seconds=self.delete_cluster_seconds,
            associate_seconds=self.associate_seconds,
            disassociate_seconds=self.disassociate_seconds,
            failed_config_gc_seconds=self.failed_config_gc_seconds,
        )
        cluster_timings = dict(config.cluster_timings)
        for name, override in (self.clusters or {}).items():
            old = cluster_timings.get(name, TimingOverrides())
            cluster_timings[name] = override.merged_over(old)
        update: dict[str, Any] = {
            "timings": step_overrides.apply_to(timings),
            "cluster_timings": cluster_timings,
        }
        update.update(self._settings())
        return config.model_copy(update=update)

    def _settings(self) -> dict[str, Any]:
        """The non-timing settings this patch changes."""
        # ``None`` means "unchanged", so a setting whose own value may be ``None`` is unset
        # by its ``clear_*`` flag instead.
        update: dict[str, Any] = {}
        for name in ("provider_limit", "issuer_ca_file", "account_rate"):
            if getattr(self, f"clear_{name}"):
                update[name] = None
            elif getattr(self, name) is not None:
                update[name] = getattr(self, name)
        for name in (
            "config_size_limit_bytes",
            "cluster_limit",
            "legacy_idp_list_max_results",
            "fetch_issuers",
        ):
            value = getattr(self, name)
            if value is not None:
                update[name] = value
        return update
