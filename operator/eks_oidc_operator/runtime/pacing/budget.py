"""Bounds on what EKS calls cost and cut: an EKS call budget per namespace, and a guard on
mass deletion.

The budget per namespace: a token bucket for each namespace in each account and region it
calls, a tenant's share of what the operator may spend there. The operator's own pacing
(:mod:`eks_oidc_operator.runtime.pacing.aws_rate`) keeps every account and region below EKS's
throttling, first come first served; this budget keeps one tenant's flood from taking all of
it, when ``namespaceCallsPerSecond`` is set below the operator's ``awsCallsPerSecond`` (by
default they are equal, so a single tenant's fleet is paced, never refused).

Every EKS call a pass makes takes one token from its namespace's bucket there, which holds
``burst`` tokens and refills at ``per_second``. A call that finds the bucket empty is not made:
it fails as ``NamespaceBudgetExhausted``, which the error policy retries with backoff like EKS's
own throttling. Thread-safe: passes run in worker threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast

from eks_oidc_operator.constants import DELETION_CONFIRMED_ANNOTATION
from eks_oidc_operator.models.eks import EksError
from eks_oidc_operator.reconcile.reasons import DELETION_HELD, NAMESPACE_BUDGET_EXHAUSTED
from eks_oidc_operator.runtime.pacing.aws_rate import RateKey
from eks_oidc_operator.runtime.pacing.buckets import TokenBuckets
from eks_oidc_operator.runtime.port import EksPort, before_each_call


class NamespaceBudget:
    """The buckets, one per namespace in each account and region it called lately."""

    def __init__(
        self, *, burst: float, per_second: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: TokenBuckets[tuple[str, RateKey]] = TokenBuckets(
            burst=burst, per_second=per_second, clock=clock
        )

    def take(self, namespace: str, where: RateKey = ("", "")) -> bool:
        """One token for one call of ``namespace`` in ``where``; ``False`` when its bucket
        is empty."""
        return self._buckets.take((namespace, where))

    def metered(self, port: EksPort, namespace: str, where: RateKey = ("", "")) -> EksPort:
        """``port`` with every call taken first from the bucket of ``namespace`` in ``where``
        (an account and region)."""

        def charge(operation: str) -> None:
            if not self.take(namespace, where):
                raise EksError(
                    NAMESPACE_BUDGET_EXHAUSTED,
                    f"namespace {namespace} has spent its EKS call budget{_in(where)} for now "
                    "(the operator's namespaceCallBurst and namespaceCallsPerSecond); the call "
                    "is retried with backoff",
                    operation=operation,
                )

        return before_each_call(port, charge)


def _in(where: RateKey) -> str:
    account, region = where
    if account:
        return f" in account {account}, {region}"
    return f" in {region}" if region else ""


class DeletionGuard:
    """At most ``budget`` disassociations of deleted objects started per ``window`` seconds,
    across the whole operator (only calls EKS accepted count): more wait, finalizer held, until
    the window moves on or the object is confirmed (its ``eksoidc.io/deletion-confirmed:
    "true"`` annotation).

    None of the peers has one, and the identity path of a fleet deserves it: an accidental
    ``kubectl delete oidcidp --all -A``, or a deleted namespace, would otherwise cut sign-in on
    every cluster at once.
    """

    def __init__(
        self, *, budget: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._budget = budget
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._started: list[float] = []

    def take(self) -> bool:
        """Room for one more disassociation now (and it is counted); ``False``: none left."""
        now = self._clock()
        with self._lock:
            self._started = [at for at in self._started if now - at < self._window]
            if len(self._started) >= self._budget:
                return False
            self._started.append(now)
            return True

    def give_back(self) -> None:
        """The disassociation just counted did not start (refused, throttled, over a
        namespace's budget): it counts no more."""
        with self._lock:
            if self._started:
                self._started.pop()

    def guarded(self, port: EksPort) -> EksPort:
        """``port`` whose ``disassociate`` first asks for room."""
        return cast(EksPort, _Guarded(port, self))

    @property
    def budget(self) -> int:
        """Disassociations per window."""
        return self._budget

    @property
    def window(self) -> float:
        """The window, in seconds."""
        return self._window


class _Guarded:
    """An EKS port whose ``disassociate`` waits for the deletion guard's room."""

    def __init__(self, port: EksPort, guard: DeletionGuard) -> None:
        self._port = port
        self._guard = guard

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._port, name)
        if name != "disassociate":
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if not self._guard.take():
                raise EksError(
                    DELETION_HELD,
                    f"more than {self._guard.budget} objects were deleted within "
                    f"{self._guard.window:g} s, so this one waits before its config is "
                    "disassociated (sign-in through it keeps working). To let it through "
                    f"now: kubectl annotate oidcidp NAME {DELETION_CONFIRMED_ANNOTATION}=true; "
                    "to keep the config instead: set spec.deletionPolicy to Retain",
                    operation="DisassociateIdentityProviderConfig",
                )
            try:
                return attribute(*args, **kwargs)
            except BaseException:
                # Only disassociations that started count: a refused or throttled one, retried
                # again and again, must not hold every other deletion back.
                self._guard.give_back()
                raise

        return call
