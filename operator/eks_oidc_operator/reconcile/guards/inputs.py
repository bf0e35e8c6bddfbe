"""Pure: what a pass must find out before it runs, decided from the object alone.

The handler's input stage (``runtime/inputs.py``) does what this says (reads the tenancy
policy, runs the issuer pre-flight, reads the CRD) and nothing more; the decisions are here,
beside the rules that read their answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from eks_oidc_operator.models import IssuerCheckMode, OidcIdentityProvider
from eks_oidc_operator.reconcile.guards import issuer
from eks_oidc_operator.reconcile.guards.tenancy import Access


@dataclass(frozen=True)
class Asks:
    """What a pass asks before it runs, besides the tenancy policy (always read: a stat)."""

    issuer_mode: IssuerCheckMode
    """How the issuer pre-flight's findings count for this object."""
    issuer_check: bool
    """Run the pre-flight now (see :func:`~.issuer.needs_check`)."""
    crd: bool
    """Read the CRD: a deletion must know whether the CRD itself is going
    (:func:`~.rules.before_eks.crd_deleted`)."""


def asks(obj: OidcIdentityProvider, default_mode: IssuerCheckMode, access: Access) -> Asks:
    """What a pass for ``obj`` asks, given the operator's default issuer mode and the tenancy
    policy's answer (a refused object's issuer is never fetched)."""
    mode = obj.spec.issuer_check or default_mode
    return Asks(
        issuer_mode=mode,
        issuer_check=issuer.needs_check(obj, mode, denied=access.denied is not None),
        crd=obj.metadata.deletion_timestamp is not None,
    )
