"""Counting EKS calls: per operation and HTTP status, plus a short journal of recent calls.

The counters let tests and benchmarks assert exactly how many EKS calls a client made
(``GET /_sim/stats``). The journal keeps each call's ``clientRequestToken`` and botocore's
``amz-sdk-request`` attempt header, so a test can prove that retries reused the same token.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

from pydantic import BaseModel

JOURNAL_SIZE = 10_000
"""How many recent calls ``GET /_sim/requests`` can show (a bounded ring)."""


class CallRecord(BaseModel):
    """One EKS call as the simulator saw it."""

    operation: str
    status: int
    cluster: str | None = None
    client_request_token: str | None = None
    attempt: str | None = None
    """botocore's ``amz-sdk-request`` header, e.g. ``attempt=2; max=3``."""
    at: float


class Stats:
    """Counters since start or the last reset."""

    def __init__(self) -> None:
        self._counts: defaultdict[str, defaultdict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.journal: deque[CallRecord] = deque(maxlen=JOURNAL_SIZE)

    def record(self, call: CallRecord) -> None:
        """Count one finished call."""
        self._counts[call.operation][call.status] += 1
        self.journal.append(call)

    def reset(self) -> None:
        """Zero all counters and forget the journal."""
        self._counts.clear()
        self.journal.clear()

    def as_json(self) -> dict[str, Any]:
        """``{"operations": {"<OperationName>": {"<httpStatus>": count}}}``."""
        return {
            "operations": {
                operation: {str(status): count for status, count in sorted(by_status.items())}
                for operation, by_status in sorted(self._counts.items())
            }
        }
