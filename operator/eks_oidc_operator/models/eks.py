"""EKS's vocabulary: what it reports about clusters and configs, and how a call of it fails.

It lives with the models, not in the ``eks`` adapter, so the pure decision code reads it without
naming the package that imports boto3. The adapter translates every boto3 answer into these
types and every botocore failure into :class:`EksError`; what an error *means* for the resource
(condition reason, retry policy, event type) is decided in
:mod:`eks_oidc_operator.reconcile.error_policy`, from ``code`` alone.

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


class EksError(Exception):
    """A failed EKS call, after botocore's own retries.

    Parameters
    ----------
    code
        EKS's error code (``ResourceInUseException``, ``ThrottlingException``, ...) or, for
        failures that never reached EKS, the botocore exception name (``NoCredentialsError``,
        ``EndpointConnectionError``, ``ReadTimeoutError``, ...).
    message
        EKS's own message, or botocore's.
    operation
        The EKS operation, e.g. ``AssociateIdentityProviderConfig``.
    http_status
        The HTTP status, when there was a response.
    """

    def __init__(
        self, code: str, message: str, *, operation: str, http_status: int | None = None
    ) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation
        self.http_status = http_status
