"""What EKS reports, as typed values: the ``eks`` layer returns these, ``reconcile`` reads them.

Only the members the operator needs are kept. Every model is frozen so an observation cannot be
edited on its way through the decision code.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObservedCluster(_Frozen):
    """DescribeCluster, reduced."""

    name: str
    status: str
    """CREATING | ACTIVE | DELETING | FAILED | UPDATING | PENDING."""
    version: str | None = None
    oidc_issuer: str | None = None
    """The cluster's own IRSA issuer: an identity-provider config may not reuse it."""


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


class ObservedUpdateError(_Frozen):
    """One ``ErrorDetail`` of a failed update."""

    error_code: str | None = None
    error_message: str | None = None
    resource_ids: tuple[str, ...] = ()


class ObservedUpdate(_Frozen):
    """DescribeUpdate's ``update`` (also what Associate/Disassociate return)."""

    id: str
    type: str | None = None
    status: str
    """InProgress | Successful | Failed | Cancelled."""
    created_at: datetime | None = None
    errors: tuple[ObservedUpdateError, ...] = ()
    config_names: tuple[str, ...] = ()
    """Names decoded from ``params[type=IdentityProviderConfig].value`` (a JSON string)."""
