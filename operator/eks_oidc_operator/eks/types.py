"""What EKS reports about clusters and configs, as typed values the decision code reads.

Only the members the operator needs are kept. Every model is frozen so an observation cannot be
edited on its way through the decision code. An EKS *update* is modelled once, as
:class:`eks_oidc_operator.models.EksUpdate`, because ``status.update`` is the same thing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObservedCluster(_Frozen):
    """DescribeCluster, reduced."""

    name: str
    status: str
    """CREATING | ACTIVE | DELETING | FAILED | UPDATING | PENDING."""
    version: str = ""
    """Kubernetes ``major.minor``; empty when EKS did not say."""


class ObservedConfig(_Frozen):
    """DescribeIdentityProviderConfig's ``oidc`` member."""

    name: str
    arn: str
    cluster_name: str
    status: str
    """CREATING | ACTIVE | DELETING."""
    issuer_url: str
    client_id: str
    username_claim: str | None = None
    username_prefix: str | None = None
    groups_claim: str | None = None
    groups_prefix: str | None = None
    required_claims: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
