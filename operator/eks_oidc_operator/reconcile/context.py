"""What one pass knows besides the object and EKS: where, when, and how often it has waited."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from eks_oidc_operator.reconcile.timing import Timings


@dataclass(frozen=True)
class Context:
    """The pass's circumstances. Built by the handlers; read by gathering and the planner."""

    region: str
    """The region resolved for the object (spec, else the operator's default); may be empty."""
    now: datetime
    timings: Timings
    rng: random.Random
    """Jitter of retry delays (seeded in tests)."""
    retries: int = 0
    """How many times in a row this handler asked to be run again (kopf's ``retry``): the
    exponent of retry backoff. Timer passes are never retries: 0."""
    polls: int = 0
    """How many polls of the work now in flight were made, this pass included when it is one:
    the position in the poll schedule. Kept by the handlers as :attr:`Plan.polls` says."""
