"""Pure: the ``clientRequestToken`` of each EKS call that starts an update.

EKS replays a call whose token it has seen (returning the original update) instead of starting a
second one. Tokens are derived from what status records, so a call repeated after a crash, or
after a lost response, is a replay and never a second association.
"""

from __future__ import annotations

import hashlib

from eks_oidc_operator.constants import UPDATE_DISASSOCIATE
from eks_oidc_operator.models import EksUpdate, OidcIdentityProvider
from eks_oidc_operator.models.eks import ObservedConfig
from eks_oidc_operator.reconcile.observation import FINISHED_BADLY

MAX_TOKEN_LENGTH = 64
"""EKS's limit on ``clientRequestToken``."""


def association_token(obj: OidcIdentityProvider, name: str | None = None) -> str:
    """The token of the next AssociateIdentityProviderConfig of ``obj``.

    Same object, generation and last known update -> same token, so a call repeated after a
    crash is replayed by EKS instead of creating a second association. A retry after a failed
    update, or a re-association after drift, follows a different last update and so gets a
    fresh token (a reused token would only replay the old outcome). A base from
    ``spec.clientRequestToken`` is joined by the object's uid, so two objects given the same
    base never replay each other's association.
    """
    last = obj.status.update.id if obj.status.update else ""
    salt = _digest(last, 8) if last else "0"
    base = _object_base(obj)
    if obj.spec.client_request_token:
        base = f"{obj.spec.client_request_token}-{_digest(base, 8)}"
    # The new config of a make-before-break replacement (``name``, derived) has a token of its
    # own: never the replay of an association of the base name.
    named = f"-n{_digest(name, 6)}" if name is not None and name != obj.config_name else ""
    return _bounded(base, f"-g{obj.metadata.generation}{named}-{salt}")


def disassociation_token(
    obj: OidcIdentityProvider, config: ObservedConfig, last: EksUpdate | None = None
) -> str:
    """Deterministic per config instance (its ARN): repeating a disassociation is a replay.

    After a failed disassociation the token follows that update too: the retry must be a new
    call, since a replay would only hand back the failure. ``last`` is the update as this pass
    saw it (status may still record it as in progress); by default the one status records.
    """
    last = last if last is not None else obj.status.update
    salt = ""
    if last is not None and last.type == UPDATE_DISASSOCIATE and last.status in FINISHED_BADLY:
        salt = f"-{_digest(last.id, 8)}"
    return _bounded(_object_base(obj), f"-d-{_digest(config.arn, 16)}{salt}")


def _object_base(obj: OidcIdentityProvider) -> str:
    return obj.metadata.uid or obj.metadata.name


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _bounded(base: str, suffix: str) -> str:
    """``base + suffix`` within EKS's limit. The suffix (generation, last update, operation)
    is what makes a token change when it must, so a base too long to leave it room is shortened
    to a prefix and a digest of the whole base, never the suffix cut off."""
    room = MAX_TOKEN_LENGTH - len(suffix)
    if len(base) > room:
        base = f"{base[: room - 13]}-{_digest(base, 12)}"
    return base + suffix
