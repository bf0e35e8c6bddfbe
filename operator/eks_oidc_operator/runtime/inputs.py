"""The pass's input stage: what only the handler can see, found out before the pass runs.

The tenancy policy (a file), the claims index (kopf's), the issuer pre-flight (async HTTP) and
the CRD's state (the API): each through an interface, so the stage is tested with fakes. What
to ask is decided by the pure :func:`~eks_oidc_operator.reconcile.guards.inputs.asks`; this stage
only asks it, and hands the answers to the pass as its
:class:`~eks_oidc_operator.reconcile.observation.Checks`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from eks_oidc_operator.models import IssuerCheckMode, OidcIdentityProvider
from eks_oidc_operator.reconcile.guards import tenancy
from eks_oidc_operator.reconcile.guards.claims import (
    Claim,
    ClaimKey,
    claim_key,
    claim_of,
    older_permitted,
)
from eks_oidc_operator.reconcile.guards.inputs import asks
from eks_oidc_operator.reconcile.guards.issuer import IssuerCheck
from eks_oidc_operator.reconcile.guards.tenancy import Access
from eks_oidc_operator.reconcile.observation import Checks, CrdState
from eks_oidc_operator.runtime.crd_state import CrdReader
from eks_oidc_operator.runtime.tenancy_source import Loaded


class Policies(Protocol):
    """The tenancy policy, as last read (:class:`~.tenancy_source.PolicySource`)."""

    def current(self) -> Loaded: ...


class Issuers(Protocol):
    """The issuer pre-flight (:class:`eks_oidc_operator.oidc.discovery.IssuerChecker`)."""

    async def check(self, url: str, tenant: str = "") -> IssuerCheck: ...


Claims = Mapping[ClaimKey, Collection[Claim]]
"""The claims index (kopf's, kept from the watch): every object's claim, by config."""


@dataclass(frozen=True)
class Sources:
    """Where the input stage asks."""

    policies: Policies
    issuers: Issuers
    crd: CrdReader
    default_issuer_mode: IssuerCheckMode


async def collect(
    obj: OidcIdentityProvider, region: str, sources: Sources, claims: Claims | None
) -> tuple[Access, Checks]:
    """The tenancy policy's answer for ``obj`` (its client needs it too) and the checks of
    its pass."""
    policy = sources.policies.current()  # a stat; parsed again only when the file changed
    access = (
        Access(denied=policy)  # no readable policy: nothing is permitted
        if isinstance(policy, str)
        else tenancy.decide(policy, obj, region)
    )
    wanted = asks(obj, sources.default_issuer_mode, access)
    check = None
    if wanted.issuer_check:
        check = await sources.issuers.check(obj.spec.oidc.issuer_url, obj.metadata.namespace or "")
    key = claim_key(obj, region)
    rival = (
        older_permitted(claims.get(key, []), claim_of(obj), key, policy)
        if claims is not None
        else None
    )
    crd, crd_problem = await sources.crd.state() if wanted.crd else (CrdState.SERVING, "")
    checks = Checks(
        denied=access.denied,
        rival=rival,
        issuer=check,
        issuer_mode=wanted.issuer_mode,
        may_adopt=access.adopt,
        crd=crd,
        crd_problem=crd_problem,
    )
    return access, checks
