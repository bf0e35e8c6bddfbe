"""Pure differences between what the spec asks for and what EKS reports.

EKS cannot edit an identity-provider config, so any difference in ``spec.oidc`` means a
replacement; tags are the one thing that can change in place. EKS fills some defaults itself
(``usernameClaim`` is ``sub`` when not given, unset prefixes and claims come back omitted or
empty), so "not set in the spec" matches EKS's default rather than demanding an exact echo.
Which fields there are, and what EKS reports for each when unset, is the field table's
(:mod:`eks_oidc_operator.models.oidc_fields`): a new field is compared without an edit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eks_oidc_operator.constants import RESERVED_TAG_PREFIX
from eks_oidc_operator.models import OidcConfigSpec
from eks_oidc_operator.models.eks import ObservedConfig
from eks_oidc_operator.models.oidc_fields import OIDC_SETTINGS, OidcField, Shape


def normalised_issuer(url: str) -> str:
    """An issuer URL reduced for the "same issuer twice on one cluster" rule (docs/eks-behaviour.md
    §7). How exactly EKS compares is not documented, so this errs towards "the same": the case
    of scheme and host, and a trailing slash, do not make two issuers different."""
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def oidc_differences(desired: OidcConfigSpec, observed: ObservedConfig) -> list[str]:
    """Dotted names of the ``spec.oidc`` fields whose value EKS does not have, in spec order."""
    return [
        f"spec.oidc.{field.wire}"
        for field in OIDC_SETTINGS
        if _differs(field, desired, field.of(observed))
    ]


def _differs(field: OidcField, desired: OidcConfigSpec, observed: Any) -> bool:
    wanted = field.of(desired)
    if field.shape is Shape.MAP:
        return dict(wanted or {}) != dict(observed or {})
    if wanted is None:
        return observed not in (None, "", *field.unset_echoes(desired))
    return bool(wanted != observed)


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
