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
from eks_oidc_operator.runtime.port import EksPort


class NamespaceBudget:
    """The buckets, one per namespace that called EKS lately (full ones are forgotten)."""

    def __init__(
        self, *, burst: float, per_second: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst = burst
        self._rate = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # namespace -> (tokens, at)

    def take(self, namespace: str) -> bool:
        """One token for one call of ``namespace``; ``False`` when its bucket is empty."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(namespace, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens < 1:
                self._buckets[namespace] = (tokens, now)
                return False
            tokens -= 1
            if len(self._buckets) > 1024:  # forget namespaces whose buckets are full again
                self._forget_full(now)
            self._buckets[namespace] = (tokens, now)
            return True

    def metered(self, port: EksPort, namespace: str, where: str = "") -> EksPort:
        """``port`` with every call taken first from the bucket of ``namespace`` in ``where``
        (an account and region)."""
        return cast(EksPort, _Metered(port, self, namespace, where))

    def _forget_full(self, now: float) -> None:
        for name, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self._rate >= self._burst:
                del self._buckets[name]


class _Metered:
    """An EKS port whose calls each take a token first."""

    def __init__(self, port: EksPort, budget: NamespaceBudget, namespace: str, where: str) -> None:
        self._port = port
        self._budget = budget
        self._namespace = namespace
        self._where = where

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._port, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if not self._budget.take(f"{self._namespace} {self._where}"):
                raise EksError(
                    NAMESPACE_BUDGET_EXHAUSTED,
                    f"namespace {self._namespace} has spent its EKS call budget "
                    + (f"in {self._where} " if self._where else "")
                    + "for now (the "
                    "operator's namespaceCallBurst and namespaceCallsPerSecond); the call is "
                    "retried with backoff",
                    operation=name,
                )
            return attribute(*args, **kwargs)

        return call


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
