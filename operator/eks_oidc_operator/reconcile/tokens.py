"""Pure: the ``clientRequestToken`` of each EKS call that starts an update.

EKS replays a call whose token it has seen (returning the original update) instead of starting a
second one. Tokens are derived from what status records, so a call repeated after a crash, or
after a lost response, is a replay and never a second association.
"""

from __future__ import annotations

import hashlib

from eks_oidc_operator.eks.types import ObservedConfig
from eks_oidc_operator.models import OidcIdentityProvider

MAX_TOKEN_LENGTH = 64
"""EKS's limit on ``clientRequestToken``."""


def association_token(obj: OidcIdentityProvider) -> str:
    """The token of the next AssociateIdentityProviderConfig of ``obj``.

    Same object, generation and last known update -> same token, so a call repeated after a
    crash is replayed by EKS instead of creating a second association. A retry after a failed
    update, or a re-association after drift, follows a different last update and so gets a
    fresh token (a reused token would only replay the old outcome).
    """
    base = obj.spec.client_request_token or obj.metadata.uid or obj.metadata.name
    last = obj.status.update.id if obj.status.update else ""
    salt = hashlib.sha256(last.encode()).hexdigest()[:8] if last else "0"
    return f"{base}-g{obj.metadata.generation}-{salt}"[:MAX_TOKEN_LENGTH]


def disassociation_token(obj: OidcIdentityProvider, config: ObservedConfig) -> str:
    """Deterministic per config instance (its ARN): repeating a disassociation is a replay."""
    digest = hashlib.sha256(config.arn.encode()).hexdigest()[:16]
    base = obj.metadata.uid or obj.metadata.name
    return f"{base}-d-{digest}"[:MAX_TOKEN_LENGTH]
