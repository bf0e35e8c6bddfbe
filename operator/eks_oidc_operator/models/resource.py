"""The whole ``OidcIdentityProvider`` object: metadata, spec and status in one validated model."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from pydantic import ConfigDict, Field

from eks_oidc_operator import constants
from eks_oidc_operator.models.base import CamelModel
from eks_oidc_operator.models.spec import ManagementPolicy, OidcIdentityProviderSpec
from eks_oidc_operator.models.status import OidcIdentityProviderStatus


def pause_of(annotations: Mapping[str, str]) -> str | None:
    """The ``eksoidc.io/paused`` value in ``annotations`` when it pauses, else ``None``: any value
    but ``"false"`` pauses (the safe reading of one the operator does not understand)."""
    value = annotations.get(constants.PAUSED_ANNOTATION)
    if value is None or value.strip().lower() == constants.NOT_PAUSED:
        return None
    return value


REQUEST_MARK_MAX = 64
"""The longest request annotation value status records as it is (a timestamp needs 25)."""


def request_mark(value: str | None) -> str | None:
    """What status records of a request annotation's value, to tell a new request from one
    answered: the value itself, or for a longer one its digest. An annotation may hold 256 KiB,
    and status would otherwise copy it whole, into every write of the object."""
    if value is None or len(value) <= REQUEST_MARK_MAX:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


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
        """The ``eksoidc.io/retry`` annotation: a user's request to retry a stalled object (as
        :func:`request_mark` records it)."""
        return request_mark(self.metadata.annotations.get(constants.RETRY_ANNOTATION))

    @property
    def reconcile_request(self) -> str | None:
        """The ``eksoidc.io/reconcile-requested-at`` annotation: a user's request for a pass now
        (as :func:`request_mark` records it)."""
        return request_mark(self.metadata.annotations.get(constants.RECONCILE_ANNOTATION))

    @property
    def asked_again(self) -> bool:
        """A user asked for a pass (either annotation has a value the last pass did not see):
        holds and retry counts start over."""
        status = self.status
        return (
            self.retry_request != status.retry_request
            or self.reconcile_request != status.last_handled_reconcile_at
        )

    @property
    def pause_value(self) -> str | None:
        """The ``eksoidc.io/paused`` annotation's value when it pauses the object, else ``None``."""
        return pause_of(self.metadata.annotations)

    @property
    def observe_only(self) -> bool:
        """``spec.managementPolicy: Observe``: read and report, never change EKS."""
        return self.spec.management_policy is ManagementPolicy.OBSERVE

    @property
    def config_name(self) -> str:
        """The EKS config name: the spec's, or the object's own name by default."""
        return self.spec.oidc.identity_provider_config_name or self.metadata.name
