"""A dict bounded by count, least recently used first out: the factory's clients and
credentials, so a fleet over many roles (or a session name per object) holds a bounded number
of them however many it has ever used."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """At most ``bound`` entries; not thread-safe (the factory holds its lock around it)."""

    def __init__(self, bound: int) -> None:
        if bound < 1:
            msg = f"bound must be at least 1, got {bound}"
            raise ValueError(msg)
        self.bound = bound
        self.evicted = 0
        """Entries dropped to make room, since the start."""
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The entry of ``key``, now the most recently used; ``None`` when absent."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` as the most recently used, dropping the least recently used entry when
        the bound is reached."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.bound:
            self._entries.popitem(last=False)
            self.evicted += 1

    def __len__(self) -> int:
        return len(self._entries)
