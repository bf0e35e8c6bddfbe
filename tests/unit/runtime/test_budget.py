"""Each namespace's EKS call budget: a token bucket that a flood empties and time refills."""

from __future__ import annotations

from typing import Any

import pytest

from eks_oidc_operator.models.eks import EksError
from eks_oidc_operator.reconcile.error_policy import api_error_policy
from eks_oidc_operator.reconcile.reasons import DELETION_HELD, NAMESPACE_BUDGET_EXHAUSTED
from eks_oidc_operator.reconcile.scheduling import request_wait
from eks_oidc_operator.runtime.pacing.budget import DeletionGuard, NamespaceBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Port:
    """Stands for an EKS client: counts the calls that reach it."""

    def __init__(self) -> None:
        self.calls = 0

    def describe_cluster(self, cluster: str) -> Any:
        self.calls += 1
        return None


def test_a_flood_empties_its_namespaces_bucket_only_and_time_refills_it() -> None:
    clock = Clock()
    budget = NamespaceBudget(burst=5, per_second=2, clock=clock)
    port = Port()
    flooding = budget.metered(port, "team-a")  # type: ignore[arg-type]
    for _ in range(5):
        flooding.describe_cluster("prod")
    with pytest.raises(EksError) as refused:
        flooding.describe_cluster("prod")
    assert refused.value.code == NAMESPACE_BUDGET_EXHAUSTED
    assert "team-a" in refused.value.message
    assert port.calls == 5, "a call over the budget never reaches EKS"
    # Another tenant is not touched by team-a's flood.
    budget.metered(port, "team-b").describe_cluster("prod")  # type: ignore[arg-type]
    assert port.calls == 6
    clock.now += 1.0  # two tokens back
    flooding.describe_cluster("prod")
    flooding.describe_cluster("prod")
    with pytest.raises(EksError):
        flooding.describe_cluster("prod")


def test_running_out_of_budget_is_retried_like_eks_throttling() -> None:
    policy = api_error_policy(NAMESPACE_BUDGET_EXHAUSTED)
    assert (policy.reason, policy.stalled) == (NAMESPACE_BUDGET_EXHAUSTED, False)


@pytest.mark.parametrize(
    ("answered_at", "now", "wait"),
    [(None, 100.0, 0.0), (90.0, 100.0, 20.0), (60.0, 100.0, 0.0), (70.0, 100.0, 0.0)],
)
def test_a_request_waits_for_the_interval_since_the_last_one_answered(
    answered_at: float | None, now: float, wait: float
) -> None:
    assert request_wait(answered_at, now, 30.0) == wait


class Deleting:
    """Stands for an EKS client that disassociates."""

    def __init__(self) -> None:
        self.disassociated: list[str] = []

    def disassociate(self, cluster: str, name: str, token: str) -> Any:
        self.disassociated.append(name)
        return None

    def describe_cluster(self, cluster: str) -> Any:
        return None


def test_the_deletion_guard_lets_the_budget_through_per_window_and_holds_the_rest() -> None:
    # `kubectl delete oidcidp --all -A`: without a guard every cluster loses sign-in at once.
    clock = Clock()
    guard = DeletionGuard(budget=3, window=600, clock=clock)
    port = Deleting()
    codes: list[str] = []
    messages: list[str] = []
    for index in range(10):
        try:
            guard.guarded(port).disassociate("prod", f"idp-{index}", "t")  # type: ignore[arg-type]
        except EksError as error:
            codes.append(error.code)
            messages.append(error.message)
    assert port.disassociated == ["idp-0", "idp-1", "idp-2"]
    assert codes == [DELETION_HELD] * 7
    assert "eksoidc.io/deletion-confirmed=true" in messages[0]
    assert "spec.deletionPolicy to Retain" in messages[0]
    guard.guarded(port).describe_cluster("prod")  # type: ignore[arg-type]  # reads pass
    clock.now += 601  # the window moved on
    guard.guarded(port).disassociate("prod", "idp-3", "t")  # type: ignore[arg-type]
    assert port.disassociated[-1] == "idp-3"
    assert api_error_policy(DELETION_HELD).stalled is False  # retried until it goes


class Refusing(Deleting):
    """An EKS client whose cluster is busy: every disassociation is refused."""

    def disassociate(self, cluster: str, name: str, token: str) -> Any:
        raise EksError("ResourceInUseException", "busy", operation="Disassociate")


def test_only_disassociations_eks_accepted_count_against_the_guard() -> None:
    # A deletion retried on a busy cluster used up the operator-wide budget, holding every
    # other tenant's deletions.
    guard = DeletionGuard(budget=2, window=600, clock=Clock())
    for _ in range(5):
        with pytest.raises(EksError) as refused:
            guard.guarded(Refusing()).disassociate("prod", "a", "t")  # type: ignore[arg-type]
        assert refused.value.code == "ResourceInUseException"
    port = Deleting()
    guard.guarded(port).disassociate("prod", "b", "t")  # type: ignore[arg-type]
    guard.guarded(port).disassociate("prod", "c", "t")  # type: ignore[arg-type]
    assert port.disassociated == ["b", "c"]
