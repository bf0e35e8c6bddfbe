"""Cluster facts, shared: one DescribeCluster per cluster and lifetime, not one per pass.

What a pass needs of a cluster (that it exists, its Kubernetes version and so its provider
limit, and whether it is ACTIVE) changes rarely, and every object on the cluster asks the same
question. :class:`ClusterFacts` keeps the answer per (region, role, external id, cluster) for
``ttl`` seconds (the ``EKS_OIDC_CLUSTER_FACTS_SECONDS`` setting; 600 s by default, one resync),
and :class:`CachedClusters` puts it in front of one EKS client.

Stale facts cost little and are corrected at once where they would mislead: a missing cluster
is never cached (the next pass asks again); any call about the cluster that EKS refuses forgets
the cluster's entry (a deleted cluster answers with 404s, an upgrading one refuses updates), so
the next pass reads it fresh, and a refused Associate or Disassociate has it read again in the
same pass (the planner tells a limit from an upgrade by the cluster's status). Thread-safe:
passes run in worker threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import TypeVar

from eks_oidc_operator.models import EksUpdate, OidcConfigSpec
from eks_oidc_operator.models.eks import EksError, ObservedCluster, ObservedConfig
from eks_oidc_operator.runtime.port import EksPort

T = TypeVar("T")

Scope = tuple[str, str, str]
"""(region, role ARN or "", external id or ""): whose view of EKS the facts are."""


class ClusterFacts:
    """DescribeCluster answers by (scope, cluster name), each kept for ``ttl`` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._facts: dict[tuple[Scope, str], tuple[float, ObservedCluster]] = {}

    def get(self, scope: Scope, cluster: str) -> ObservedCluster | None:
        """The cached facts of ``cluster``, while they are fresh."""
        with self._lock:
            entry = self._facts.get((scope, cluster))
            if entry is None:
                return None
            if self._clock() - entry[0] >= self._ttl:
                del self._facts[(scope, cluster)]
                return None
            return entry[1]

    def put(self, scope: Scope, found: ObservedCluster) -> None:
        """Remember ``found`` as of now."""
        if self._ttl <= 0:
            return
        with self._lock:
            self._facts[(scope, found.name)] = (self._clock(), found)

    def forget(self, scope: Scope, cluster: str) -> None:
        """Drop what is known of ``cluster`` (a call found it other than cached)."""
        with self._lock:
            self._facts.pop((scope, cluster), None)

    def cached(self, eks: EksPort, scope: Scope) -> CachedClusters:
        """``eks`` with its DescribeCluster answered from these facts when they are fresh."""
        return CachedClusters(eks, self, scope)


class CachedClusters:
    """An :class:`EksPort` that answers DescribeCluster from shared facts; all else passes."""

    def __init__(self, eks: EksPort, facts: ClusterFacts, scope: Scope) -> None:
        self._eks = eks
        self._facts = facts
        self._scope = scope
        self._from_cache: set[str] = set()

    def answered_from_cache(self, cluster: str) -> bool:
        """Whether this pass's facts of ``cluster`` came from the cache (and may be old)."""
        return cluster in self._from_cache

    def describe_cluster(self, cluster: str) -> ObservedCluster | None:
        known = self._facts.get(self._scope, cluster)
        if known is not None:
            self._from_cache.add(cluster)
            return known
        self._from_cache.discard(cluster)
        found = self._eks.describe_cluster(cluster)
        if found is not None:
            self._facts.put(self._scope, found)
        return found

    def describe_config(self, cluster: str, name: str) -> ObservedConfig | None:
        return self._forgetting(cluster, lambda: self._eks.describe_config(cluster, name))

    def list_configs(self, cluster: str) -> list[str]:
        return self._forgetting(cluster, lambda: self._eks.list_configs(cluster))

    def describe_update(self, cluster: str, update_id: str) -> EksUpdate | None:
        return self._forgetting(cluster, lambda: self._eks.describe_update(cluster, update_id))

    def find_config_update(self, cluster: str, name: str, type: str) -> EksUpdate | None:
        return self._forgetting(cluster, lambda: self._eks.find_config_update(cluster, name, type))

    def associate(
        self,
        cluster: str,
        name: str,
        oidc: OidcConfigSpec,
        tags: Mapping[str, str],
        token: str,
    ) -> EksUpdate:
        return self._forgetting(
            cluster, lambda: self._eks.associate(cluster, name, oidc, tags, token)
        )

    def disassociate(self, cluster: str, name: str, token: str) -> EksUpdate:
        return self._forgetting(cluster, lambda: self._eks.disassociate(cluster, name, token))

    def _forgetting(self, cluster: str, call: Callable[[], T]) -> T:
        """``call``; when EKS refuses it, the cluster's facts are forgotten (a cluster deleted,
        or being upgraded, answers calls about it with errors first)."""
        try:
            return call()
        except EksError:
            self._facts.forget(self._scope, cluster)
            raise

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._eks.tag(arn, tags)

    def untag(self, arn: str, keys: Collection[str]) -> None:
        self._eks.untag(arn, keys)
