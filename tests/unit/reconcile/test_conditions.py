"""Conditions follow kstatus: lastTransitionTime moves only when status flips."""

from __future__ import annotations

from datetime import timedelta

from eks_oidc_operator.models import ConditionStatus
from eks_oidc_operator.reconcile.conditions import (
    ConditionSpec,
    apply_conditions,
    ready,
    reconciling,
    set_condition,
    stalled,
)
from tests.support.factories import NOW

LATER = NOW + timedelta(minutes=5)


def test_a_new_condition_gets_now_and_the_generation() -> None:
    [cond] = set_condition(
        [], ConditionSpec("Ready", ConditionStatus.FALSE, "Associating"), now=NOW, generation=3
    )
    assert cond.last_transition_time == NOW
    assert cond.observed_generation == 3


def test_same_status_keeps_the_transition_time_even_if_reason_changes() -> None:
    first = set_condition(
        [], ConditionSpec("Ready", ConditionStatus.FALSE, "Associating"), now=NOW, generation=1
    )
    [cond] = set_condition(
        first, ConditionSpec("Ready", ConditionStatus.FALSE, "Busy", "m"), now=LATER, generation=2
    )
    assert cond.last_transition_time == NOW
    assert (cond.reason, cond.message, cond.observed_generation) == ("Busy", "m", 2)


def test_a_flip_moves_the_transition_time() -> None:
    first = set_condition(
        [], ConditionSpec("Ready", ConditionStatus.FALSE, "Associating"), now=NOW, generation=1
    )
    [cond] = set_condition(
        first, ConditionSpec("Ready", ConditionStatus.TRUE, "Active"), now=LATER, generation=1
    )
    assert cond.last_transition_time == LATER


def test_the_three_kstatus_shapes_are_mutually_consistent() -> None:
    for shape, expected in (
        (ready("Active", "ok"), ("True", "False", "False")),
        (reconciling("Associating", "m"), ("False", "True", "False")),
        (stalled("InvalidParameterException", "m"), ("False", "False", "True")),
    ):
        conds = apply_conditions([], shape, now=NOW, generation=1)
        assert [c.type for c in conds] == ["Ready", "Reconciling", "Stalled"]
        assert tuple(c.status.value for c in conds) == expected


def test_other_condition_types_are_kept() -> None:
    foreign = set_condition(
        [], ConditionSpec("Custom", ConditionStatus.TRUE, "X"), now=NOW, generation=1
    )
    conds = apply_conditions(foreign, ready("Active", ""), now=NOW, generation=1)
    assert "Custom" in [c.type for c in conds]
