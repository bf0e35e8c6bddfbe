"""What one pass knows besides the object and EKS: where, when, and how often it has waited."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.reconcile.timing import Timings, Window


@dataclass(frozen=True)
class Context:
    """The pass's circumstances. Built by :mod:`eks_oidc_operator.runtime.passes`; read by
    gathering and the planner."""

    region: str
    """The region resolved for the object (spec, else the operator's default); may be empty."""
    now: datetime
    timings: Timings
    rng: random.Random
    """Jitter of retry delays (seeded in tests)."""
    retries: int = 0
    """How many retries in a row the object's passes asked for (the poll timer's count; the
    finalize handler's is kopf's ``retry``): the exponent of retry backoff. A create, spec
    update or start begins again at 0."""
    management_cluster: str = ""
    """The name of the management cluster this operator runs in, written in ownership tags
    (empty: not configured)."""
    polls: int = 0
    """How many polls of the work now in flight were made, this pass included when it is one:
    the position in the poll schedule. Kept between passes as :attr:`Plan.polls` says."""
    windows: Mapping[str, Window] = field(default_factory=dict)
    """When recent updates of the object's account and region ended, by update type: what the
    poll schedule learned (empty: nothing learned yet)."""


def pinned_region(obj: OidcIdentityProvider, default: str | None) -> str:
    """The region a pass for ``obj`` works in; empty when none is known.

    The spec's region; else the one an earlier pass resolved and wrote to status, so that a
    changed operator default never repoints an existing object at a same-named cluster in
    another region (orphaning its association); else the operator's default.
    """
    return pinned(obj.spec.region, obj.status.region, default)


def pinned(spec: str | None, status: str | None, default: str | None) -> str:
    """:func:`pinned_region`'s rule, on the regions alone (of a body not yet parsed)."""
    return spec or status or default or ""
