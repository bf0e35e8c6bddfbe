"""Shared cluster facts: one DescribeCluster per cluster and lifetime; read again if it matters."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from eks_oidc_operator.models.eks import EksError, ObservedCluster
from eks_oidc_operator.reconcile.observation import Checks
from eks_oidc_operator.runtime.cluster_facts import ClusterFacts
from eks_oidc_operator.runtime.pacing.gate import ClusterGate
from eks_oidc_operator.runtime.reconciler import reconcile
from tests.support.factories import FakeEks, ctx, obj

SCOPE = ("eu-west-1", "", "")


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def test_every_object_on_a_cluster_shares_one_describe_while_it_is_fresh() -> None:
    clock, eks = Clock(), FakeEks()
    facts = ClusterFacts(ttl=600, clock=clock)
    for _ in range(100):
        found = facts.cached(eks, SCOPE).describe_cluster("prod")
        assert found is not None
        assert found.version == "1.33"
    assert eks.calls.count("DescribeCluster") == 1
    clock.now = 599
    facts.cached(eks, SCOPE).describe_cluster("prod")
    assert eks.calls.count("DescribeCluster") == 1
    clock.now = 600
    facts.cached(eks, SCOPE).describe_cluster("prod")
    assert eks.calls.count("DescribeCluster") == 2


def test_facts_are_kept_per_scope_and_cluster() -> None:
    eks = FakeEks()
    facts = ClusterFacts(ttl=600)
    facts.cached(eks, SCOPE).describe_cluster("prod")
    facts.cached(eks, SCOPE).describe_cluster("staging")
    facts.cached(eks, ("eu-west-1", "arn:aws:iam::2:role/x", "")).describe_cluster("prod")
    facts.cached(eks, ("us-east-1", "", "")).describe_cluster("prod")
    assert eks.calls.count("DescribeCluster") == 4


def test_a_missing_cluster_is_never_cached() -> None:
    eks = FakeEks(cluster_exists=False)
    facts = ClusterFacts(ttl=600)
    assert facts.cached(eks, SCOPE).describe_cluster("prod") is None
    eks.cluster_exists = True
    assert facts.cached(eks, SCOPE).describe_cluster("prod") is not None
    assert eks.calls.count("DescribeCluster") == 2


def test_a_lifetime_of_zero_asks_every_time() -> None:
    eks = FakeEks()
    facts = ClusterFacts(ttl=0)
    facts.cached(eks, SCOPE).describe_cluster("prod")
    facts.cached(eks, SCOPE).describe_cluster("prod")
    assert eks.calls.count("DescribeCluster") == 2


@dataclass
class UpgradingEks(FakeEks):
    """A cluster that went UPDATING (an upgrade) since its facts were cached."""

    def describe_cluster(self, cluster: str) -> ObservedCluster | None:
        self._call("DescribeCluster")
        return ObservedCluster(name=cluster, status="UPDATING", version=self.version)


def test_a_refused_associate_reads_the_cluster_again_instead_of_trusting_old_facts() -> None:
    facts = ClusterFacts(ttl=600)
    facts.put(SCOPE, ObservedCluster(name="prod", status="ACTIVE", version="1.33"))
    refusal = EksError(
        "InvalidRequestException",
        "cluster is being upgraded",
        operation="AssociateIdentityProviderConfig",
        http_status=400,
    )
    eks = UpgradingEks(fail={"AssociateIdentityProviderConfig": refusal})
    plan = reconcile(
        obj(), ctx(), lambda: facts.cached(eks, SCOPE), ClusterGate(), Checks(may_adopt=True)
    )
    # The config was presumed absent; after the refusal it is looked at, and the cluster read.
    assert eks.calls == [
        "AssociateIdentityProviderConfig",
        "DescribeIdentityProviderConfig",
        "DescribeCluster",
    ]
    # Cached ACTIVE, the refusal would have read as a provider limit (a long hold); read
    # again, the cluster is UPDATING: a transient refusal, retried.
    assert plan.rule != "limit_refused"
    assert plan.retry_after is not None
    assert plan.retry_after < 600
    fresh = facts.get(SCOPE, "prod")
    assert fresh is not None
    assert fresh.status == "UPDATING"


def test_a_cluster_that_answers_a_call_with_an_error_is_read_again_next_time() -> None:
    gone = EksError(
        "ResourceNotFoundException",
        "No cluster found for name: prod",
        operation="ListIdentityProviderConfigs",
        http_status=404,
    )
    eks = FakeEks(fail={"ListIdentityProviderConfigs": gone})
    facts = ClusterFacts(ttl=600)
    port = facts.cached(eks, SCOPE)
    port.describe_cluster("prod")
    with pytest.raises(EksError):
        port.list_configs("prod")
    assert facts.get(SCOPE, "prod") is None
    eks.cluster_exists = False
    assert facts.cached(eks, SCOPE).describe_cluster("prod") is None
    assert eks.calls.count("DescribeCluster") == 2
