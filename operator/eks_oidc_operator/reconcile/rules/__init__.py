"""Pure: the rule chains. The first rule that recognises the observation gives the verdict.

One guard sits after the chains: a verdict that would start an EKS update while another object
of this operator is updating the same cluster becomes :func:`~.common.cluster_busy` instead, so
objects queue inside the operator rather than drawing 409s from EKS.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import Verdict
from eks_oidc_operator.reconcile.rules import apply, delete
from eks_oidc_operator.reconcile.rules.common import cluster_busy

Rule = Callable[[Observation, Context], Verdict | None]
"""A rule: recognises one situation and returns its verdict, or ``None`` to pass."""

APPLY: Sequence[Rule] = apply.RULES
DELETE: Sequence[Rule] = delete.RULES


def verdict(obs: Observation, ctx: Context) -> Verdict:
    """The verdict of the first rule of the object's chain that matches, named after it."""
    found = _first(DELETE if obs.deleting else APPLY, obs, ctx)
    if found.starts_update is not None and obs.gate_holder is not None:
        return dataclasses.replace(cluster_busy(obs), rule=cluster_busy.__name__)
    return found


def _first(chain: Sequence[Rule], obs: Observation, ctx: Context) -> Verdict:
    for rule in chain:
        found = rule(obs, ctx)
        if found is not None:
            return dataclasses.replace(found, rule=rule.__name__)
    msg = "the last rule of a chain always matches"
    raise AssertionError(msg)
