"""Pure: what an issuer pre-flight found, and what it means for the object.

EKS fetches the issuer's discovery document only at the end of an association, 15-40 minutes
in, and fails the update then (docs/eks-behaviour.md §3.7). The operator fetches it first, in a
second. An issuer that *answers wrongly* (an HTTP error, another ``issuer``, no keys, a
certificate that does not verify, a slow answer) would fail EKS the same way, so under
``Enforce`` it stops the object before any EKS call, as does an issuer the fence will not fetch
(:mod:`eks_oidc_operator.oidc.fence`). A failure to *connect* (DNS, refused, no answer to the
connect) only warns: the management cluster may have no route to an issuer that EKS can reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from eks_oidc_operator import constants
from eks_oidc_operator.models import ConditionStatus, IssuerCheckMode, OidcIdentityProvider
from eks_oidc_operator.reconcile import conditions
from eks_oidc_operator.reconcile.plan import in_flight

VERIFIED: Final = "Verified"
"""IssuerVerified=True: discovery document and keys as EKS will want them."""
UNREACHABLE: Final = "IssuerUnreachable"
"""No connection: the host has no address, refuses, or does not answer the connect (the
network's fault, maybe only the management cluster's)."""
NOT_ALLOWED: Final = "IssuerNotAllowed"
"""The fence refused to fetch: not https, or an address that is not public and not allowed."""
ANSWERED_WRONGLY: Final = "IssuerAnsweredWrongly"
"""The issuer was reached and its answer is not what EKS needs (an HTTP error or redirect, a
certificate that does not verify, too big, too slow, not JSON, another ``issuer``, no keys)."""
NOT_CHECKED: Final = "IssuerNotCheckedYet"
"""The check did not get its turn: too many checks ran at once (on that host, or in all).
Not a finding: the object waits and is checked again in seconds."""


class Severity(StrEnum):
    """What a finding does to the object."""

    FINE = "Fine"
    WARN = "Warn"
    """A Warning event and IssuerVerified=False; the association goes ahead."""
    FATAL = "Fatal"
    """Stalled before any EKS call."""
    WAIT = "Wait"
    """Not checked yet, under Enforce: no EKS call this pass, and another pass soon."""


@dataclass(frozen=True)
class IssuerCheck:
    """One pre-flight of one issuer URL."""

    url: str
    problem: str | None = None
    """The reason (one of the constants above), or ``None`` when verified."""
    message: str = ""
    """What the tenant is told: coarse, in the operator's own words. Nothing the issuer (or
    whatever the URL reached) answered is echoed, and no HTTP status or TLS error: a tenant
    must not be able to read other hosts through the pre-flight."""
    detail: str = ""
    """What exactly went wrong, for the operator's log (the admin's), never for status."""


def severity(check: IssuerCheck, mode: IssuerCheckMode) -> Severity:
    """What ``check`` means under ``mode``.

    Only a failure to connect merely warns under ``Enforce``: the management cluster may have
    no route to an issuer that EKS itself can reach. An issuer that was reached and answered
    wrongly (or slowly) would fail EKS the same way, and one the fence refuses is refused.
    """
    if check.problem is None or mode is IssuerCheckMode.SKIP:
        return Severity.FINE
    if check.problem == NOT_CHECKED:
        # Under Warn no finding would stop the association, so none is waited for.
        return Severity.WAIT if mode is IssuerCheckMode.ENFORCE else Severity.FINE
    if mode is IssuerCheckMode.ENFORCE and check.problem != UNREACHABLE:
        return Severity.FATAL
    return Severity.WARN


def needs_check(obj: OidcIdentityProvider, mode: IssuerCheckMode, *, denied: bool) -> bool:
    """Whether a pass for ``obj`` should run the pre-flight: whenever it may associate.

    Not when the object is Ready at its generation (EKS has the issuer already), while an
    update of ours is in flight (the check is for before it starts), during deletion, or when
    the tenancy policy refuses the object (its URL is not fetched then). Never for an object
    that only observes or is paused: it associates nothing.
    """
    if mode is IssuerCheckMode.SKIP or obj.metadata.deletion_timestamp is not None:
        return False
    if obj.observe_only or obj.pause_value is not None:
        return False
    if denied or in_flight(obj.status):
        return False
    ready = conditions.find(obj.status.conditions, constants.CONDITION_READY)
    return not (
        ready is not None
        and ready.status == ConditionStatus.TRUE
        and ready.observed_generation == obj.metadata.generation
    )
