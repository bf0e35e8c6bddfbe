"""An EKS call budget per namespace: a token bucket each, so no tenant's flood can spend the
account's shared EKS API rate (EKS throttles per account and region, so one namespace's flood
would throttle every other tenant's calls).

Every EKS call a pass makes takes one token from its namespace's bucket, which holds ``burst``
tokens and refills at ``per_second``. A call that finds the bucket empty is not made: it fails
as ``NamespaceBudgetExhausted``, which the error policy retries with backoff like EKS's own
throttling. Thread-safe: passes run in worker threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast

from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.reconcile.port import EksPort
from eks_oidc_operator.reconcile.reasons import NAMESPACE_BUDGET_EXHAUSTED


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

    def metered(self, port: EksPort, namespace: str) -> EksPort:
        """``port`` with every call taken from ``namespace``'s bucket first."""
        return cast(EksPort, _Metered(port, self, namespace))

    def _forget_full(self, now: float) -> None:
        for name, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self._rate >= self._burst:
                del self._buckets[name]


class _Metered:
    """An EKS port whose calls each take a token first."""

    def __init__(self, port: EksPort, budget: NamespaceBudget, namespace: str) -> None:
        self._port = port
        self._budget = budget
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._port, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if not self._budget.take(self._namespace):
                raise EksError(
                    NAMESPACE_BUDGET_EXHAUSTED,
                    f"namespace {self._namespace} has spent its EKS call budget for now (the "
                    "operator's namespaceCallBurst and namespaceCallsPerSecond); the call is "
                    "retried with backoff",
                    operation=name,
                )
            return attribute(*args, **kwargs)

        return call
