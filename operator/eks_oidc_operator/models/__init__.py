"""Pydantic models of the ``OidcIdentityProvider`` resource; the CRD is generated from them."""

from eks_oidc_operator.models.resource import ObjectMeta, OidcIdentityProvider
from eks_oidc_operator.models.spec import DeletionPolicy, OidcConfigSpec, OidcIdentityProviderSpec
from eks_oidc_operator.models.status import (
    Condition,
    ConditionStatus,
    ConfigStatus,
    EksUpdate,
    EksUpdateError,
    OidcIdentityProviderStatus,
    Phase,
)

__all__ = [
    "Condition",
    "ConditionStatus",
    "ConfigStatus",
    "DeletionPolicy",
    "EksUpdate",
    "EksUpdateError",
    "ObjectMeta",
    "OidcConfigSpec",
    "OidcIdentityProvider",
    "OidcIdentityProviderSpec",
    "OidcIdentityProviderStatus",
    "Phase",
]
