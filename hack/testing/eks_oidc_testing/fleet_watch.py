"""What the fleet benchmarks watch: every version of every object the API server's watch
delivers (when each was first seen, and first seen Ready), and the simulator's updates by
cluster."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eks_oidc_testing.stack import Stack


@dataclass
class Watch:
    """Every version of every object in ``default`` the API server's watch delivers: how many
    per object, when each was first seen, and when first seen Ready at generation 1 (wall
    clock)."""

    stack: Stack
    writes: Counter[str] = field(default_factory=Counter)
    added_at: dict[str, float] = field(default_factory=dict)
    ready_at: dict[str, float] = field(default_factory=dict)

    restarts: int = 0
    _process: subprocess.Popen[str] | None = None
    _stopping: bool = False

    @contextmanager
    def running(self) -> Iterator[Watch]:
        thread = threading.Thread(target=self._read, daemon=True)
        thread.start()
        time.sleep(1.0)  # the watch is established before the burst
        try:
            yield self
        finally:
            self._stopping = True
            if self._process is not None:
                self._process.terminate()
                self._process.wait(timeout=10)
            thread.join(timeout=10)

    def _command(self, *, listing: bool) -> list[str]:
        return [
            str(self.stack.binaries / "kubectl"),
            f"--kubeconfig={self.stack.plane.admin_kubeconfig}",
            "get",
            "oidcidp",
            "-n",
            "default",
            "--watch" if listing else "--watch-only",
            "--output-watch-events",
            "-o",
            "json",
        ]

    def _read(self) -> None:
        # kubectl ends its watch when the API server closes it: start it again (with a list
        # first, so objects that became Ready meanwhile are seen, if late) and say so.
        while not self._stopping:
            self._process = subprocess.Popen(
                self._command(listing=self.restarts > 0),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert self._process.stdout is not None
            for line in self._process.stdout:  # with --output-watch-events: one per line
                try:
                    self._seen(json.loads(line))
                except json.JSONDecodeError:
                    continue
            if self._stopping:
                return
            self._process.wait()
            error = (self._process.stderr.read() if self._process.stderr else "").strip()
            print(f"(the watch ended: {error[-300:] or 'no message'}; watching again)")
            self.restarts += 1

    def _seen(self, event: dict[str, Any]) -> None:
        body = event.get("object", {})
        name = body.get("metadata", {}).get("name", "")
        if event.get("type") == "MODIFIED":
            self.writes[name] += 1
        self.added_at.setdefault(name, time.time())
        status = body.get("status", {})
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions", [])
        )
        if ready and status.get("observedGeneration") == 1 and name not in self.ready_at:
            self.ready_at[name] = time.time()


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):.1f} s, p95 {p95:.1f} s, max {ordered[-1]:.1f} s"


def updates_by_cluster(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """Every update of every cluster, by cluster, in the order they started."""
    state = stack.sim.call("GET", "/_sim/state")
    return {
        c["name"]: sorted(c.get("updates", {}).values(), key=lambda u: u["created_at"])
        for c in state["clusters"]
    }
