"""Pure: what an issuer pre-flight found, and what it means for the object.

EKS fetches the issuer's discovery document only at the end of an association, 15-40 minutes
in, and fails the update then (docs/eks-behaviour.md §3.7). The operator fetches it first, in a
second. An issuer that *answers wrongly* (an HTTP error, another ``issuer``, no keys, a
certificate that does not verify) would fail EKS the same way, so under ``Enforce`` it stops the
object before any EKS call. A *network* failure (DNS, timeout, connection refused) only warns:
the management cluster may have no route to an issuer that EKS itself can reach.
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
"""No usable answer: an HTTP error status, a TLS failure, or no route (network)."""
MISMATCH: Final = "IssuerMismatch"
"""The discovery document names another ``issuer`` than ``spec.oidc.issuerUrl``."""
NO_KEYS: Final = "IssuerNoKeys"
"""No ``jwks_uri``, or a key set without keys."""


class Severity(StrEnum):
    """What a finding does to the object."""

    FINE = "Fine"
    WARN = "Warn"
    """A Warning event and IssuerVerified=False; the association goes ahead."""
    FATAL = "Fatal"
    """Stalled before any EKS call."""


@dataclass(frozen=True)
class IssuerCheck:
    """One pre-flight of one issuer URL."""

    url: str
    problem: str | None = None
    """The reason (one of the constants above), or ``None`` when verified."""
    detail: str = ""
    """The HTTP status, TLS error or mismatch, in words."""
    network: bool = False
    """The failure was the network's (DNS, timeout, refused), not the issuer's answer."""


def severity(check: IssuerCheck, mode: IssuerCheckMode) -> Severity:
    """What ``check`` means under ``mode``."""
    if check.problem is None or mode is IssuerCheckMode.SKIP:
        return Severity.FINE
    if mode is IssuerCheckMode.ENFORCE and not check.network:
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
