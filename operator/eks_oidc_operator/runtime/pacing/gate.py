"""The per-cluster gate: this operator starts one EKS update per cluster at a time.

Objects that want to start an update on a busy cluster wait in the cluster's queue, in a
fixed order (creation time, then namespace/name), and cost nothing while they wait: no EKS
call, no status write, no retry timer. When the holder's update ends the gate passes straight
to the first waiter and wakes it (a callback the handler gives, which sets an asyncio event),
so the next update starts within a pass's time of the last one ending.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

GateKey = tuple[str, str]
"""(region, cluster name)."""

Wake = Callable[[], None]
"""Called (from any thread) when the gate has passed to a waiter: its turn has come."""

Order = tuple[str, str]
"""A waiter's place: (creationTimestamp, namespace/name); RFC 3339 timestamps sort as text."""


class ClusterGate:
    """Serialises this operator's own mutating calls per cluster, with a fair queue.

    EKS runs one update per cluster at a time and answers any second one with a 409. When N
    objects target one cluster, the gate lets one of them call EKS and queues the others. A
    restarted operator starts with an empty gate; EKS's 409 still guards correctness, the gate
    only saves calls. Thread-safe: passes run in worker threads, wake-ups come from there too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[GateKey, str] = {}
        self._queues: dict[GateKey, dict[str, tuple[Order, Wake]]] = {}

    def holder(self, key: GateKey, owner: str) -> str | None:
        """Who other than ``owner`` holds the cluster now, if anyone (a look, not a claim)."""
        with self._lock:
            current = self._owners.get(key)
            return None if current in (None, owner) else current

    def acquire(self, key: GateKey, owner: str) -> str | None:
        """Take the cluster for ``owner``; return the current other owner if it is taken."""
        with self._lock:
            current = self._owners.setdefault(key, owner)
            if current == owner:
                self._leave(owner)
            return None if current == owner else current

    def release(self, key: GateKey, owner: str) -> None:
        """Free the cluster if ``owner`` holds it, and pass it to the first waiter."""
        with self._lock:
            if self._owners.get(key) != owner:
                return
            del self._owners[key]
            woken = self._hand_over(key)
        if woken is not None:
            woken()

    def enqueue(self, key: GateKey, owner: str, order: Order, wake: Wake) -> None:
        """Queue ``owner`` for cluster ``key`` (keeping its place if it is queued already).

        When the cluster was freed since ``owner`` looked, it gets the gate and is woken now.
        """
        with self._lock:
            if self._owners.get(key) in (None, owner):
                self._leave(owner)
                self._owners[key] = owner
                woken: Wake | None = wake
            else:
                queued = self._queues.get(key, {})
                place = queued[owner][0] if owner in queued else order
                self._leave(owner)  # out of any other cluster's queue (and of this one)
                self._queues.setdefault(key, {})[owner] = (place, wake)
                woken = None
        if woken is not None:
            woken()

    def leave(self, owner: str) -> None:
        """``owner`` no longer waits for any cluster."""
        with self._lock:
            self._leave(owner)

    def forget(self, owner: str) -> None:
        """``owner`` is gone (its object deleted): out of every queue, and every cluster it
        held passes on."""
        with self._lock:
            self._leave(owner)
            held = [key for key, current in self._owners.items() if current == owner]
            woken = []
            for key in held:
                del self._owners[key]
                woken.append(self._hand_over(key))
        for wake in woken:
            if wake is not None:
                wake()

    def seat(self, key: GateKey, owner: str) -> Seat:
        """``owner``'s view of the gate of cluster ``key``."""
        return Seat(self, key, owner)

    def _leave(self, owner: str) -> None:
        for key in [k for k, queue in self._queues.items() if owner in queue]:
            del self._queues[key][owner]
            if not self._queues[key]:
                del self._queues[key]

    def _hand_over(self, key: GateKey) -> Wake | None:
        """Make the first waiter of ``key`` its holder (the lock is held); its wake-up."""
        queue = self._queues.get(key)
        if not queue:
            return None
        first = min(queue, key=lambda waiter: queue[waiter][0])
        _, wake = queue.pop(first)
        if not queue:
            del self._queues[key]
        self._owners[key] = first
        return wake


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

    def queue(self, order: Order, wake: Wake) -> None:
        """Wait for the cluster: ``wake`` is called when this object's turn comes."""
        self.gate.enqueue(self.key, self.owner, order, wake)

    def leave(self) -> None:
        """Stop waiting for any cluster."""
        self.gate.leave(self.owner)
