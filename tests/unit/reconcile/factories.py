"""Builders for objects and EKS observations, so each test row says only what matters."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from eks_oidc_operator.eks.types import ObservedConfig
from eks_oidc_operator.models import EksUpdate, EksUpdateError, OidcIdentityProvider
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.timing import Timings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ARN = "arn:aws:eks:eu-west-1:123456789012:identityproviderconfig/prod/oidc/corp/1111"
OTHER_ARN = "arn:aws:eks:eu-west-1:123456789012:identityproviderconfig/prod/oidc/corp/2222"


def obj(
    *,
    status: dict[str, Any] | None = None,
    generation: int = 1,
    deleting: bool = False,
    **spec: Any,
) -> OidcIdentityProvider:
    oidc = {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"}
    oidc.update(spec.pop("oidc", {}))
    body = {
        "metadata": {
            "name": "corp",
            "namespace": "platform",
            "uid": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
            "generation": generation,
            **({"deletionTimestamp": "2026-11-28T12:00:00Z"} if deleting else {}),
        },
        "spec": {"clusterName": "prod", "oidc": oidc, **spec},
        "status": status or {},
    }
    return OidcIdentityProvider.model_validate(body)


def config(status: str = "ACTIVE", arn: str = ARN, **fields: Any) -> ObservedConfig:
    values: dict[str, Any] = {
        "name": "corp",
        "arn": arn,
        "cluster_name": "prod",
        "status": status,
        "issuer_url": "https://login.example.com",
        "client_id": "kubernetes",
        **fields,
    }
    return ObservedConfig(**values)


def update(
    status: str = "InProgress",
    type_: str = "AssociateIdentityProviderConfig",
    id_: str = "u-1",
    code: str | None = None,
    message: str | None = None,
) -> EksUpdate:
    errors = (EksUpdateError(error_code=code, error_message=message),) if code else ()
    return EksUpdate(id=id_, type=type_, status=status, errors=errors)


def ours(**extra: Any) -> dict[str, Any]:
    """A status that records ARN as this object's config."""
    return {"identityProviderConfigArn": ARN, "configStatus": "ACTIVE", "phase": "Active", **extra}


def ctx(
    *, retries: int = 0, polls: int = 0, timings: Timings | None = None, region: str = "eu-west-1"
) -> Context:
    """The pass's context at NOW, with the default schedule and a seeded jitter."""
    return Context(
        region=region,
        now=NOW,
        timings=timings or Timings(),
        rng=random.Random(0),
        retries=retries,
        polls=polls,
    )
