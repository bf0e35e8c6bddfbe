"""Pure: the rule chains. The first rule that recognises the observation gives the verdict.

Two chains run in each pass. The first (:mod:`~.before_eks`) runs before any AWS call, on the object
alone; when it matches, the pass ends there. Otherwise EKS is read and the apply, observe
(``managementPolicy: Observe``, :mod:`~.observe`) or deletion chain decides.

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
from eks_oidc_operator.reconcile.rules import apply, before_eks, delete, observe
from eks_oidc_operator.reconcile.rules.common import cluster_busy

Rule = Callable[[Observation, Context], Verdict | None]
"""A rule: recognises one situation and returns its verdict, or ``None`` to pass."""

APPLY: Sequence[Rule] = apply.RULES
DELETE: Sequence[Rule] = delete.RULES
OBSERVE: Sequence[Rule] = observe.RULES


def _chains(obs: Observation) -> tuple[Sequence[Rule], Sequence[Rule]]:
    """The object's pre-AWS chain and its chain after EKS is read."""
    if obs.deleting:
        return before_eks.DELETE, DELETE
    if obs.obj.observe_only:
        return before_eks.OBSERVE, OBSERVE
    return before_eks.APPLY, APPLY


def verdict_before_eks(obs: Observation, ctx: Context) -> Verdict | None:
    """The verdict of the first pre-AWS rule that matches, or ``None``: EKS must be read."""
    for rule in _chains(obs)[0]:
        found = rule(obs, ctx)
        if found is not None:
            return dataclasses.replace(found, rule=rule.__name__)
    return None


def verdict(obs: Observation, ctx: Context) -> Verdict:
    """The verdict of the first rule of the object's chain that matches, named after it."""
    found = _first(_chains(obs)[1], obs, ctx)
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
