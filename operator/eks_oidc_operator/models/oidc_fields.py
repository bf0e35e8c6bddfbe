"""Every field of ``spec.oidc``, described once: the table the EKS request, the observation,
the differences and the successor name are all driven by.

Adding an OIDC field means a field on :class:`~eks_oidc_operator.models.OidcConfigSpec` (its
type, constraints and CEL rules) and a row here (how EKS takes it and reports it back); a test
fails while either is missing. :class:`~eks_oidc_operator.models.eks.ObservedConfig` keeps a
typed field of the same Python name per row, so decision code reads observations with types; a
test holds it to the table as well. The EKS simulator keeps its own list (it must not import the
operator), checked against this one by a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from eks_oidc_operator.models.spec import OidcConfigSpec

DEFAULT_USERNAME_CLAIM = "sub"
"""EKS's documented default for ``usernameClaim``."""


class Shape(Enum):
    """How a field travels to EKS and back."""

    NAME = "name"
    """The config's identity: the caller supplies it (defaulted to metadata.name), EKS echoes
    it, and it is never a *difference* (another name is another config)."""
    REQUIRED = "required"
    """Always sent, always reported; compared exactly."""
    OPTIONAL = "optional"
    """Sent only when set. When unset, EKS omits it or reports ``""`` or a default of its own
    (:attr:`OidcField.unset_echoes`), all of which match "unset"."""
    MAP = "map"
    """Sent only when non-empty (EKS applies defaults only to absent members); reported as
    ``{}`` when unset; compared as a whole, unset and empty being the same."""


def _no_echo(_: OidcConfigSpec) -> tuple[str, ...]:
    return ()


def _default_username_claim(_: OidcConfigSpec) -> tuple[str, ...]:
    return (DEFAULT_USERNAME_CLAIM,)


def _issuer_prefix(spec: OidcConfigSpec) -> tuple[str, ...]:
    # EKS may echo its default prefix, `<issuerUrl>#`, for claims other than email.
    return (f"{spec.issuer_url}#",)


@dataclass(frozen=True)
class OidcField:
    """One field of ``spec.oidc`` and of EKS's ``oidc`` member."""

    python: str
    """Attribute name on ``OidcConfigSpec`` and ``ObservedConfig``."""
    wire: str
    """Member name in EKS's requests and responses, which is also the CRD's."""
    shape: Shape
    unset_echoes: Callable[[OidcConfigSpec], tuple[str, ...]] = _no_echo
    """What EKS may report, given the spec, for this field when the spec leaves it unset."""
    names_successor: bool = True
    """Part of the digest in a make-before-break successor's name: a change of it gets a
    config of another name."""

    def of(self, model: BaseModel) -> Any:
        """This field's value on ``model`` (an ``OidcConfigSpec`` or an ``ObservedConfig``)."""
        return getattr(model, self.python)

    def is_default(self, spec: OidcConfigSpec) -> bool:
        """Whether ``spec`` leaves this field at the model's default (a required field never)."""
        info = type(spec).model_fields[self.python]
        return not info.is_required() and self.of(spec) == info.get_default(
            call_default_factory=True
        )


NAME_FIELD = OidcField(
    "identity_provider_config_name", "identityProviderConfigName", Shape.NAME, names_successor=False
)

OIDC_FIELDS: tuple[OidcField, ...] = (
    NAME_FIELD,
    OidcField("issuer_url", "issuerUrl", Shape.REQUIRED),
    OidcField("client_id", "clientId", Shape.REQUIRED),
    OidcField("username_claim", "usernameClaim", Shape.OPTIONAL, _default_username_claim),
    OidcField("username_prefix", "usernamePrefix", Shape.OPTIONAL, _issuer_prefix),
    OidcField("groups_claim", "groupsClaim", Shape.OPTIONAL),
    OidcField("groups_prefix", "groupsPrefix", Shape.OPTIONAL),
    OidcField("required_claims", "requiredClaims", Shape.MAP),
)
"""Every field of ``OidcConfigSpec``, in its order (which is the order differences are named)."""

OIDC_SETTINGS: tuple[OidcField, ...] = tuple(f for f in OIDC_FIELDS if f.shape is not Shape.NAME)
"""The settings EKS stores under a config's name: all but the name."""
