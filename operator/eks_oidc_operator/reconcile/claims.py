"""Pure: which of several objects naming the same EKS config goes first.

Two objects (in two namespaces, say) that name one config on one cluster of one account and
region cannot both own it. Once one has associated, the config's owner tag settles it (see
:mod:`~.ownership`). Before that, when both already exist (applied together, or while the
operator was down), the older object wins: oldest ``creationTimestamp``, then the smaller uid.
That answer does not depend on the order the operator happens to see them in, and stays the
same across restarts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.models.tenancy import TenancyPolicy
from eks_oidc_operator.reconcile.tenancy import decide_for

ClaimKey = tuple[str, str, str, str]
"""(account, region, cluster, config name). The account is the one ``spec.roleArn`` names, or
empty for the operator's own identity."""


@dataclass(frozen=True, order=True)
class Claim:
    """One object's claim on a config; claims compare oldest first."""

    created: str
    """``metadata.creationTimestamp`` (RFC 3339 in UTC as the API server writes it, so it sorts
    as text)."""
    uid: str
    owner: str
    """``<namespace>/<name>``."""
    namespace: str = ""
    role_arn: str | None = None
    """What the tenancy policy needs to know whether the claim counts (a refused object, which
    can never reach EKS, must not block anyone's config)."""


def claim_key(obj: OidcIdentityProvider, region: str) -> ClaimKey:
    """The config ``obj`` claims."""
    role = obj.spec.role_arn
    account = role.split(":")[4] if role else ""
    return (account, region, obj.spec.cluster_name, obj.config_name)


def claim_of(obj: OidcIdentityProvider) -> Claim:
    """``obj``'s claim."""
    meta = obj.metadata
    return Claim(
        meta.creation_timestamp or "",
        meta.uid or "",
        f"{meta.namespace}/{meta.name}",
        meta.namespace or "",
        obj.spec.role_arn,
    )


def older_claim(claims: Iterable[Claim], mine: Claim) -> Claim | None:
    """The oldest claim on the same config made before ``mine``, if any."""
    older = [claim for claim in claims if claim.uid != mine.uid and claim < mine]
    return min(older) if older else None


def older_permitted(
    claims: Iterable[Claim], mine: Claim, key: ClaimKey, policy: TenancyPolicy | str
) -> str | None:
    """The owner of the oldest claim before ``mine`` on ``key`` that ``policy`` permits.

    An object the policy refuses can never reach EKS, so its claim must not block anyone (a
    tenant could otherwise reserve another tenant's config names). With no readable policy
    (``str``: nothing is permitted) nobody goes first.
    """
    if isinstance(policy, str):
        return None
    _, region, cluster, _ = key
    counted = [
        claim
        for claim in claims
        if decide_for(policy, claim.namespace, claim.role_arn, region, cluster).denied is None
    ]
    older = older_claim(counted, mine)
    return older.owner if older is not None else None
