"""Pure: which of several objects naming the same EKS config goes first.

Two objects (in two namespaces, say) that name one config on one cluster of one account and
region cannot both own it. Once one has associated, the config's owner tag settles it (see
:mod:`~.ownership`). Before that, when both already exist (applied together, or while the
operator was down), the older object wins: oldest ``creationTimestamp``, then the smaller uid.
That answer does not depend on the order the operator happens to see them in, and stays the
same across restarts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.models.spec import role_account
from eks_oidc_operator.models.tenancy import TenancyPolicy
from eks_oidc_operator.reconcile.guards.tenancy import decide_for
from eks_oidc_operator.reconcile.observation import new_to_eks
from eks_oidc_operator.reconcile.timing import Timings

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


def indexed(body: Mapping[str, Any], default_region: str | None) -> dict[ClaimKey, Claim] | None:
    """The claims index's entry of the object ``body``: its claim, by the config it names.

    Objects being deleted claim nothing: they are on their way out; nor do objects that only
    observe (they associate nothing, so they hold back no one), nor bodies that do not parse.
    """
    if body.get("metadata", {}).get("deletionTimestamp"):
        return None
    try:
        obj = OidcIdentityProvider.model_validate(
            {"metadata": dict(body.get("metadata", {})), "spec": dict(body.get("spec", {}))}
        )
    except ValidationError:
        return None
    if obj.observe_only:
        return None
    status = dict(body.get("status", {}))
    region = obj.spec.region or status.get("region") or default_region or ""
    return {claim_key(obj, region): claim_of(obj)}


def claim_key(obj: OidcIdentityProvider, region: str) -> ClaimKey:
    """The config ``obj`` claims."""
    return (role_account(obj.spec.role_arn), region, obj.spec.cluster_name, obj.config_name)


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


def settle_wait(obj: OidcIdentityProvider, now: datetime, timings: Timings) -> float:
    """Seconds a new object waits before its first pass may associate: until every object
    created in the same second is known (creation timestamps have whole seconds, and the watch
    brings each a moment later), so that of two objects naming one config the older goes first
    and the younger makes no call. Without the wait, the one seen first associated, and the
    other, older by its uid, associated too: refused by EKS, half the time. The handler waits
    it out before the pass (no status write, no retry); it is 0 for every pass but a new
    object's first."""
    if obj.metadata.deletion_timestamp is not None or not new_to_eks(obj):
        return 0.0
    if obj.metadata.creation_timestamp is None:
        return 0.0
    try:
        created = datetime.fromisoformat(obj.metadata.creation_timestamp)
    except ValueError:
        return 0.0
    longest = 1 + timings.claim_settle
    settled = created + timedelta(seconds=longest)
    # Capped: an operator whose clock is behind the API server's must not sleep the lag too.
    return min(longest, max(0.0, (settled - now).total_seconds()))
