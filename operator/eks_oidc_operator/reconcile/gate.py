"""The per-cluster gate: this operator starts one EKS update per cluster at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass

GateKey = tuple[str, str]
"""(region, cluster name)."""


class ClusterGate:
    """Serialises this operator's own mutating calls per cluster.

    EKS runs one update per cluster at a time and answers any second one with a 409. When N
    objects target one cluster, the gate lets one of them call EKS and has the others wait
    without calling at all. A restarted operator starts with an empty gate; EKS's 409 still
    guards correctness, the gate only saves calls. Thread-safe: passes run in worker threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[GateKey, str] = {}

    def holder(self, key: GateKey, owner: str) -> str | None:
        """Who other than ``owner`` holds the cluster now, if anyone (a look, not a claim)."""
        with self._lock:
            current = self._owners.get(key)
            return None if current in (None, owner) else current

    def acquire(self, key: GateKey, owner: str) -> str | None:
        """Take the cluster for ``owner``; return the current other owner if it is taken."""
        with self._lock:
            current = self._owners.setdefault(key, owner)
            return None if current == owner else current

    def release(self, key: GateKey, owner: str) -> None:
        """Free the cluster if ``owner`` holds it."""
        with self._lock:
            if self._owners.get(key) == owner:
                del self._owners[key]

    def seat(self, key: GateKey, owner: str) -> Seat:
        """``owner``'s view of the gate of cluster ``key``."""
        return Seat(self, key, owner)


@dataclass(frozen=True)
class Seat:
    """One object's place at one cluster's gate, for the length of a pass."""

    gate: ClusterGate
    key: GateKey
    owner: str

    def holder(self) -> str | None:
        """Who else holds the cluster now, if anyone."""
        return self.gate.holder(self.key, self.owner)

    def take(self) -> str | None:
        """Take the cluster; return who else holds it if it is taken."""
        return self.gate.acquire(self.key, self.owner)

    def release(self) -> None:
        """Free the cluster if this object holds it."""
        self.gate.release(self.key, self.owner)
