"""Token buckets by key, the one mechanism under the namespace budget and the call rate.

Each key has a bucket of ``burst`` tokens refilled at ``per_second``; a key never seen, or one
whose bucket is full again, is not kept. A bucket may be refused a token (:meth:`take`) or run
into debt (:meth:`borrow`), which later takers wait out. Thread-safe: passes run in worker
threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

KEPT = 1024
"""Buckets kept before the full ones are forgotten (keys gone quiet)."""

WHOLE = 1 - 1e-9
"""What counts as a whole token: a bucket refilled for exactly the time :meth:`until_one` said
may hold 0.999... of one in floating point, and must not be sent to wait for nothing."""


class TokenBuckets(Generic[K]):
    """The buckets."""

    def __init__(
        self, *, burst: float, per_second: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[K, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: K) -> bool:
        """One token of ``key``'s bucket; ``False``, and nothing taken, when it has none."""
        now = self._clock()
        with self._lock:
            tokens = self._tokens(key, now)
            taken = tokens >= WHOLE
            self._store(key, tokens - 1 if taken else tokens, now)
        return taken

    def borrow(self, key: K) -> float:
        """One token of ``key``'s bucket, in debt if need be: the tokens left (negative: owed)."""
        now = self._clock()
        with self._lock:
            tokens = self._tokens(key, now) - 1
            self._store(key, tokens, now)
        return tokens

    def until_one(self, key: K) -> float:
        """Seconds until ``key``'s bucket holds a whole token (0: it holds one now)."""
        now = self._clock()
        with self._lock:
            tokens = self._tokens(key, now)
        return 0.0 if tokens >= WHOLE else (1 - tokens) / self.per_second

    def give_back(self, key: K) -> None:
        """Return a token taken and not used."""
        now = self._clock()
        with self._lock:
            self._store(key, min(self.burst, self._tokens(key, now) + 1), now)

    def _tokens(self, key: K, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.per_second)

    def _store(self, key: K, tokens: float, now: float) -> None:
        if len(self._buckets) > KEPT:
            for known in list(self._buckets):
                if self._tokens(known, now) >= self.burst:
                    del self._buckets[known]
        self._buckets[key] = (tokens, now)
