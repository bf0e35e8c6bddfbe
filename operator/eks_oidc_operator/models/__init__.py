"""Pydantic models of the ``OidcIdentityProvider`` resource; the CRD is generated from them."""

from eks_oidc_operator.models.resource import ObjectMeta, OidcIdentityProvider
from eks_oidc_operator.models.spec import (
    AdoptionPolicy,
    DeletionPolicy,
    IssuerCheckMode,
    ManagementPolicy,
    OidcConfigSpec,
    OidcIdentityProviderSpec,
    ReplacementPolicy,
)
from eks_oidc_operator.models.status import (
    Condition,
    ConditionStatus,
    ConfigStatus,
    EksUpdate,
    EksUpdateError,
    Fallback,
    Hold,
    OidcIdentityProviderStatus,
    Phase,
    PreviousConfig,
)

__all__ = [
    "AdoptionPolicy",
    "Condition",
    "ConditionStatus",
    "ConfigStatus",
    "DeletionPolicy",
    "EksUpdate",
    "EksUpdateError",
    "Fallback",
    "Hold",
    "IssuerCheckMode",
    "ManagementPolicy",
    "ObjectMeta",
    "OidcConfigSpec",
    "OidcIdentityProvider",
    "OidcIdentityProviderSpec",
    "OidcIdentityProviderStatus",
    "Phase",
    "PreviousConfig",
    "ReplacementPolicy",
]
