"""The whole ``OidcIdentityProvider`` object: metadata, spec and status in one validated model."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from eks_oidc_operator import constants
from eks_oidc_operator.models.base import CamelModel
from eks_oidc_operator.models.spec import OidcIdentityProviderSpec
from eks_oidc_operator.models.status import OidcIdentityProviderStatus


class ObjectMeta(CamelModel):
    """The few ``metadata`` fields the operator reads."""

    model_config = ConfigDict(extra="ignore")

    name: str
    namespace: str | None = None
    uid: str | None = None
    generation: int = 1
    deletion_timestamp: str | None = None
    creation_timestamp: str | None = None
    annotations: dict[str, str] = Field(default_factory=dict)


class OidcIdentityProvider(CamelModel):
    """A parsed object, as kopf hands over its ``body``."""

    model_config = ConfigDict(extra="ignore")

    metadata: ObjectMeta
    spec: OidcIdentityProviderSpec
    status: OidcIdentityProviderStatus = Field(default_factory=OidcIdentityProviderStatus)

    @property
    def retry_request(self) -> str | None:
        """The ``eksoidc.io/retry`` annotation: a user's request to retry a stalled object."""
        return self.metadata.annotations.get(constants.RETRY_ANNOTATION)

    @property
    def config_name(self) -> str:
        """The EKS config name: the spec's, or the object's own name by default."""
        return self.spec.oidc.identity_provider_config_name or self.metadata.name
