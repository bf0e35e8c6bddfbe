"""Watching a replacement from outside: the cluster's configs as the simulator holds them, and
the object as the API server streams it, each on a thread, stamped with one monotonic clock.

A replacement's promise ("sign-in never stops", "the outage is announced before it starts") is
about what an observer sees over time, so tests and benchmarks sample it continuously rather
than look at the end state. The simulator is read through ``GET /_sim/state``, which is not an
EKS call: sampling changes no figure it counts.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eks_oidc_testing.simulator import SimulatorHandle

OWNER_TAG = "eksoidc.io/owner"


@dataclass(frozen=True)
class ConfigSample:
    """One look at a cluster's configs: ``(name, status, owner tag)`` of each."""

    at: float
    configs: tuple[tuple[str, str, str], ...]

    def active_of(self, owner: str) -> list[str]:
        """The names of the ACTIVE configs whose owner tag is ``owner``."""
        return [n for n, s, o in self.configs if s == "ACTIVE" and o == owner]

    def of(self, owner: str) -> list[str]:
        """The names of the configs (any status) whose owner tag is ``owner``."""
        return [n for n, _, o in self.configs if o == owner]


@dataclass
class ConfigSampler:
    """Samples the configs of one simulated cluster every ``interval`` seconds."""

    simulator: SimulatorHandle
    cluster: str
    interval: float = 0.05
    samples: list[ConfigSample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def look(self) -> ConfigSample:
        state = self.simulator.call("GET", "/_sim/state")
        found = next((c for c in state["clusters"] if c["name"] == self.cluster), None)
        configs = (found or {}).get("configs", {})
        return ConfigSample(
            time.monotonic(),
            tuple(
                (name, c["status"], c.get("tags", {}).get(OWNER_TAG, ""))
                for name, c in sorted(configs.items())
            ),
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.look())
            self._stop.wait(self.interval)

    @contextmanager
    def running(self) -> Iterator[ConfigSampler]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=10)
            self.samples.append(self.look())

    def longest_gap(self, owner: str) -> float:
        """The longest stretch, in seconds, over which no sample showed an ACTIVE config of
        ``owner`` (from the first such sample to the next sample that shows one)."""
        longest, since = 0.0, None
        for sample in self.samples:
            if sample.active_of(owner):
                if since is not None:
                    longest = max(longest, sample.at - since)
                since = None
            elif since is None:
                since = sample.at
        if since is not None and self.samples:
            longest = max(longest, self.samples[-1].at - since)
        return longest


@dataclass(frozen=True)
class ObjectSample:
    """One version of the object as the API server's watch delivered it."""

    at: float
    body: dict[str, Any]

    def condition(self, type_: str) -> dict[str, Any]:
        for entry in self.body.get("status", {}).get("conditions", []):
            if entry.get("type") == type_:
                found: dict[str, Any] = entry
                return found
        return {}


@contextmanager
def watched(kubectl: list[str], resource: str, namespace: str) -> Iterator[list[ObjectSample]]:
    """Every version of ``resource`` while the block runs, from ``kubectl get -w -o json``
    (``kubectl`` is the command with its kubeconfig). The watch misses no change, unlike
    polling, once it has started: the block is entered only after the first version (kubectl's
    initial list) has arrived, because the watch continues from that list's resourceVersion.
    Entering sooner would let a change made at once by the block (kubectl takes a second or
    more to start on a loaded machine) fold into that first version, unseen."""
    samples: list[ObjectSample] = []
    started = threading.Event()
    process = subprocess.Popen(
        [*kubectl, "get", resource, "-n", namespace, "-w", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )

    def read() -> None:
        assert process.stdout is not None
        decoder, buffer = json.JSONDecoder(), ""
        for line in process.stdout:
            buffer += line
            stripped = buffer.lstrip()
            try:
                body, end = decoder.raw_decode(stripped)
            except json.JSONDecodeError:
                continue
            samples.append(ObjectSample(time.monotonic(), body))
            started.set()
            buffer = stripped[end:]
        started.set()  # kubectl ended: let the block run and fail on what it finds

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        if not started.wait(timeout=30):
            raise TimeoutError(f"kubectl get -w {resource} printed nothing in 30 s")
        yield samples
    finally:
        process.terminate()
        process.wait(timeout=10)
        thread.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
