"""Pure differences between what the spec asks for and what EKS reports.

EKS cannot edit an identity-provider config, so any difference in ``spec.oidc`` means a
replacement; tags are the one thing that can change in place. EKS fills some defaults itself
(``usernameClaim`` is ``sub`` when not given, unset prefixes and claims come back omitted or
empty), so "not set in the spec" matches EKS's default rather than demanding an exact echo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eks_oidc_operator.constants import RESERVED_TAG_PREFIX
from eks_oidc_operator.models import OidcConfigSpec
from eks_oidc_operator.models.eks import ObservedConfig

DEFAULT_USERNAME_CLAIM = "sub"
"""EKS's documented default for ``usernameClaim``."""


def _same(desired: str | None, observed: str | None, *defaults: str) -> bool:
    if desired is None:
        return observed in (None, "", *defaults)
    return desired == observed


def normalised_issuer(url: str) -> str:
    """An issuer URL reduced for the "same issuer twice on one cluster" rule (docs/eks-behaviour.md
    §7). How exactly EKS compares is not documented, so this errs towards "the same": the case
    of scheme and host, and a trailing slash, do not make two issuers different."""
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def oidc_differences(desired: OidcConfigSpec, observed: ObservedConfig) -> list[str]:
    """Dotted names of the ``spec.oidc`` fields whose value EKS does not have."""
    differences = []
    if desired.issuer_url != observed.issuer_url:
        differences.append("spec.oidc.issuerUrl")
    if desired.client_id != observed.client_id:
        differences.append("spec.oidc.clientId")
    if not _same(desired.username_claim, observed.username_claim, DEFAULT_USERNAME_CLAIM):
        differences.append("spec.oidc.usernameClaim")
    # EKS may echo its default prefix (`<issuerUrl>#`) for claims other than email.
    if not _same(desired.username_prefix, observed.username_prefix, f"{desired.issuer_url}#"):
        differences.append("spec.oidc.usernamePrefix")
    if not _same(desired.groups_claim, observed.groups_claim):
        differences.append("spec.oidc.groupsClaim")
    if not _same(desired.groups_prefix, observed.groups_prefix):
        differences.append("spec.oidc.groupsPrefix")
    if dict(desired.required_claims or {}) != dict(observed.required_claims):
        differences.append("spec.oidc.requiredClaims")
    return differences


@dataclass(frozen=True)
class TagDelta:
    """What TagResource and UntagResource must do to make EKS's tags equal the spec's."""

    to_set: dict[str, str]
    to_remove: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Nothing to do."""
        return not self.to_set and not self.to_remove


def tag_delta(desired: Mapping[str, str] | None, observed: Mapping[str, str]) -> TagDelta:
    """The spec's tags are the whole set: extra keys are removed, except AWS's own."""
    wanted = dict(desired or {})
    to_set = {key: value for key, value in wanted.items() if observed.get(key) != value}
    to_remove = tuple(
        sorted(
            key
            for key in observed
            if key not in wanted and not key.lower().startswith(RESERVED_TAG_PREFIX)
        )
    )
    return TagDelta(to_set, to_remove)
