"""Pure condition bookkeeping with ``metav1.Condition`` and kstatus semantics.

``lastTransitionTime`` moves only when a condition's ``status`` flips, never when only its
reason or message changes: ``kubectl wait``, Flux and Argo CD rely on that, and it keeps status
writes idempotent when nothing changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from eks_oidc_operator import constants
from eks_oidc_operator.models import Condition, ConditionStatus


@dataclass(frozen=True)
class ConditionSpec:
    """A condition as the decision code wants it, before timestamps are applied."""

    type: str
    status: ConditionStatus
    reason: str
    message: str = ""


def set_condition(
    conditions: Sequence[Condition], wanted: ConditionSpec, *, now: datetime, generation: int
) -> list[Condition]:
    """Return ``conditions`` with ``wanted`` upserted by type; other types are kept as they are."""
    previous = next((c for c in conditions if c.type == wanted.type), None)
    transition = now
    if previous is not None and previous.status == wanted.status:
        transition = previous.last_transition_time
    updated = Condition(
        type=wanted.type,
        status=wanted.status,
        reason=wanted.reason,
        message=wanted.message,
        last_transition_time=transition,
        observed_generation=generation,
    )
    kept = [c for c in conditions if c.type != wanted.type]
    return sorted([*kept, updated], key=lambda c: _ORDER.get(c.type, len(_ORDER)))


_ORDER = {
    constants.CONDITION_READY: 0,
    constants.CONDITION_RECONCILING: 1,
    constants.CONDITION_STALLED: 2,
}


def apply_conditions(
    conditions: Sequence[Condition],
    wanted: Sequence[ConditionSpec],
    *,
    now: datetime,
    generation: int,
) -> list[Condition]:
    """Upsert several conditions at once (in order)."""
    result = list(conditions)
    for spec in wanted:
        result = set_condition(result, spec, now=now, generation=generation)
    return result


def find(conditions: Sequence[Condition], type_: str) -> Condition | None:
    """The condition of that type, if any."""
    return next((c for c in conditions if c.type == type_), None)


def ready(reason: str, message: str) -> list[ConditionSpec]:
    """kstatus "Current": Ready, nothing in flight, nothing stuck."""
    return [
        ConditionSpec(constants.CONDITION_READY, ConditionStatus.TRUE, reason, message),
        ConditionSpec(constants.CONDITION_RECONCILING, ConditionStatus.FALSE, reason, ""),
        ConditionSpec(constants.CONDITION_STALLED, ConditionStatus.FALSE, reason, ""),
    ]


def reconciling(reason: str, message: str) -> list[ConditionSpec]:
    """kstatus "InProgress": work in flight (or a retry is scheduled); not Ready."""
    return [
        ConditionSpec(constants.CONDITION_READY, ConditionStatus.FALSE, reason, message),
        ConditionSpec(constants.CONDITION_RECONCILING, ConditionStatus.TRUE, reason, message),
        ConditionSpec(constants.CONDITION_STALLED, ConditionStatus.FALSE, reason, ""),
    ]


def stalled(reason: str, message: str) -> list[ConditionSpec]:
    """kstatus "Failed": progress needs a human (or a spec change)."""
    return [
        ConditionSpec(constants.CONDITION_READY, ConditionStatus.FALSE, reason, message),
        ConditionSpec(constants.CONDITION_RECONCILING, ConditionStatus.FALSE, reason, ""),
        ConditionSpec(constants.CONDITION_STALLED, ConditionStatus.TRUE, reason, message),
    ]
