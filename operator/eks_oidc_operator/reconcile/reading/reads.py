"""Pure: the EKS reads gathering asks for, as values, and a typed helper to ask for each.

``config = yield from describe_config(cluster, name)`` reads as the call it stands for; the
answer is whatever the loop that performs the read sends back
(:mod:`eks_oidc_operator.runtime.gather`), with the type the helper promises.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from eks_oidc_operator.models import EksUpdate
from eks_oidc_operator.models.eks import ObservedCluster, ObservedConfig

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DescribeCluster:
    """DescribeCluster; answered with an ``ObservedCluster``, or ``None`` when it is gone."""

    cluster: str


@dataclass(frozen=True, slots=True)
class DescribeConfig:
    """DescribeIdentityProviderConfig; answered with an ``ObservedConfig`` or ``None``."""

    cluster: str
    name: str


@dataclass(frozen=True, slots=True)
class ListConfigs:
    """ListIdentityProviderConfigs (every page); answered with the names."""

    cluster: str


@dataclass(frozen=True, slots=True)
class DescribeUpdate:
    """DescribeUpdate; answered with an ``EksUpdate``, or ``None`` when EKS has none."""

    cluster: str
    update_id: str


@dataclass(frozen=True, slots=True)
class FindConfigUpdate:
    """The newest update of ``type`` for config ``name`` (ListUpdates, then DescribeUpdate)."""

    cluster: str
    name: str
    type: str


Read = DescribeCluster | DescribeConfig | ListConfigs | DescribeUpdate | FindConfigUpdate
"""One EKS read."""

Reading = Generator[Read, Any, T]
"""Gathering code: yields reads, is sent each answer, returns ``T``."""


def describe_cluster(cluster: str) -> Reading[ObservedCluster | None]:
    """The cluster, ``None`` when it does not exist."""
    return cast("ObservedCluster | None", (yield DescribeCluster(cluster)))


def describe_config(cluster: str, name: str) -> Reading[ObservedConfig | None]:
    """The config ``name``, ``None`` when the cluster has none of that name."""
    return cast("ObservedConfig | None", (yield DescribeConfig(cluster, name)))


def list_configs(cluster: str) -> Reading[tuple[str, ...]]:
    """The names of every config on the cluster."""
    return tuple(cast("list[str]", (yield ListConfigs(cluster))))


def describe_update(cluster: str, update_id: str) -> Reading[EksUpdate | None]:
    """The update ``update_id``."""
    return cast("EksUpdate | None", (yield DescribeUpdate(cluster, update_id)))


def find_config_update(cluster: str, name: str, type: str) -> Reading[EksUpdate | None]:
    """The newest update of ``type`` of config ``name``, if EKS still lists one."""
    return cast("EksUpdate | None", (yield FindConfigUpdate(cluster, name, type)))
