"""The simulator's clock: wall time plus an offset that only ever grows.

Every lifecycle deadline is a timestamp on this clock and progress is computed lazily from
it, so ``POST /_sim/advance`` makes a 40-minute association finish instantly and exactly,
and tests never sleep. In *manual* mode the clock does not follow wall time at all: it
stands still until advanced, which makes "still CREATING" assertions race-free.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel


class ClockSnapshot(BaseModel):
    """What the state file keeps about the clock so time never runs backwards on restart."""

    manual: bool
    offset: float = 0.0
    manual_now: float = 0.0


class SimClock:
    """Seconds since the epoch, as the simulated EKS sees them.

    Parameters
    ----------
    manual
        If true, time moves only through :meth:`advance`; otherwise it follows ``wall``
        plus the accumulated advances.
    wall
        The wall-clock source (injectable for tests of this class).
    """

    def __init__(self, *, manual: bool = False, wall: Callable[[], float] = time.time) -> None:
        self._manual = manual
        self._wall = wall
        self._offset = 0.0
        self._manual_now = wall()

    @property
    def manual(self) -> bool:
        """Whether the clock stands still between advances."""
        return self._manual

    def now(self) -> float:
        """The current simulated time, in epoch seconds."""
        if self._manual:
            return self._manual_now
        return self._wall() + self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (must be >= 0) and return the new time."""
        if seconds < 0:
            msg = "the simulator clock never moves backwards"
            raise ValueError(msg)
        if self._manual:
            self._manual_now += seconds
        else:
            self._offset += seconds
        return self.now()

    def snapshot(self) -> ClockSnapshot:
        """Capture the clock for persistence."""
        return ClockSnapshot(manual=self._manual, offset=self._offset, manual_now=self.now())

    def restore(self, snap: ClockSnapshot) -> None:
        """Continue from a saved clock, never earlier than the saved time.

        A wall clock keeps its saved offset (so advances survive a restart); a manual
        clock resumes at the saved instant. The clock's own mode (CLI flag) wins over the
        saved one, and in that case we only guarantee time does not go backwards.
        """
        if self._manual:
            self._manual_now = snap.manual_now
        else:
            self._offset = max(snap.offset, snap.manual_now - self._wall(), 0.0)
