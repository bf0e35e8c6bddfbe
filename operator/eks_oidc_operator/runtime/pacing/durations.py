"""What EKS's updates took lately, per account, region and kind: the poll schedule's windows.

After each pass the runtime shows this book the status the pass began from and the one it
planned. While an update is in flight, the book notes when a pass last saw it running; when a
pass sees it Successful, the update ended between that look and this one, and the span
(seconds after EKS created it) is kept, the last :data:`KEPT` of each kind. The window of a
kind (:func:`eks_oidc_operator.reconcile.timing.poll_delay` uses it) closes at the latest end
seen and opens at the earliest span's middle, less the range over the number of spans:

- the middle, not the start: a span seen by the sparse looks before the window is wide, and
  its start would pull the window far too early (many polls for nothing);
- less the range over the count (the gap expected between two neighbours of that many draws):
  the earliest of 20 draws is still later than about one update in 20, and those would be
  seen only by the sparse looks, with a lag of minutes.

Only successes are learned from (a failure may come at any time), and only updates a pass of
this process saw running (after a restart, the first look has no earlier one: its span is
unknown). In memory: a new process starts on the first schedule until updates end again.
Runs on the event loop only.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from eks_oidc_operator import constants
from eks_oidc_operator.models import OidcIdentityProviderStatus
from eks_oidc_operator.reconcile.timing import Window
from eks_oidc_operator.runtime.pacing.aws_rate import RateKey

KEPT = 20
"""Ended updates kept per account, region and kind."""

LOOKS_KEPT = 100_000
"""In-flight updates whose last look is remembered at most (the oldest forgotten first)."""


class UpdateDurations:
    """The book."""

    def __init__(self) -> None:
        self._spans: dict[RateKey, dict[str, deque[tuple[float, float]]]] = {}
        self._looked: dict[str, datetime] = {}  # update id -> when a pass last saw it running

    def windows(self, key: RateKey) -> dict[str, Window]:
        """The windows learned for ``key``, by update type."""
        return {kind: _window(spans) for kind, spans in self._spans.get(key, {}).items()}

    def observe(
        self,
        key: RateKey,
        before: OidcIdentityProviderStatus,
        after: OidcIdentityProviderStatus,
        now: datetime,
    ) -> None:
        """A pass of an object charged to ``key`` began from ``before`` and planned ``after``
        at ``now``: note the look, and learn from an update it saw end."""
        update = after.update
        if update is None:
            return
        if update.status == constants.UPDATE_IN_PROGRESS:
            self._looked.pop(update.id, None)  # re-inserted last: the oldest go first
            self._looked[update.id] = now
            if len(self._looked) > LOOKS_KEPT:
                del self._looked[next(iter(self._looked))]
            return
        looked = self._looked.pop(update.id, None)
        began = before.update
        ran = began is not None and began.id == update.id
        if (
            not ran
            or looked is None
            or update.status != constants.UPDATE_SUCCESSFUL
            or not update.created_at
        ):
            return
        lower = (looked - update.created_at).total_seconds()
        upper = (now - update.created_at).total_seconds()
        kinds = self._spans.setdefault(key, {})
        spans = kinds.setdefault(update.type or "", deque(maxlen=KEPT))
        spans.append((max(0.0, lower), max(0.0, upper)))


def _window(spans: deque[tuple[float, float]]) -> Window:
    """The window of one kind's spans (see the module)."""
    earliest = min((lower + upper) / 2 for lower, upper in spans)
    closes = max(upper for _, upper in spans)
    opens = max(0.0, earliest - (closes - earliest) / len(spans))
    return Window(opens=opens, closes=closes, samples=len(spans))
