"""Counting calls (EKS and STS): per operation and HTTP status, plus a journal of recent calls.

The counters let tests and benchmarks assert exactly how many calls a client made
(``GET /_sim/stats``). The journal keeps each call's ``clientRequestToken`` and botocore's
``amz-sdk-request`` attempt header, so a test can prove that retries reused the same token;
and who signed it and as which role, so a test can prove what reached STS and that the EKS
calls that followed were made with the role's credentials.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

from pydantic import BaseModel

JOURNAL_SIZE = 10_000
"""How many recent calls ``GET /_sim/requests`` can show (a bounded ring)."""


class CallRecord(BaseModel):
    """One EKS or STS call as the simulator saw it."""

    operation: str
    status: int
    cluster: str | None = None
    client_request_token: str | None = None
    attempt: str | None = None
    """botocore's ``amz-sdk-request`` header, e.g. ``attempt=2; max=3``."""
    at: float
    access_key_id: str | None = None
    """The access key that signed the call (from its SigV4 ``Authorization`` header)."""
    role_arn: str | None = None
    """``AssumeRole``: the ``RoleArn`` asked for. Other calls: the role whose credentials, issued
    by this simulator's ``AssumeRole``, signed the call (``None`` for any other credentials)."""
    role_session_name: str | None = None
    """``AssumeRole``: the ``RoleSessionName`` sent. Other calls: the session of that role."""
    external_id: str | None = None
    """``AssumeRole`` only: the ``ExternalId`` sent (``None`` when there was none)."""


class Stats:
    """Counters since start or the last reset."""

    def __init__(self, journal_size: int = JOURNAL_SIZE) -> None:
        self._counts: defaultdict[str, defaultdict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.journal: deque[CallRecord] = deque(maxlen=journal_size)

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
