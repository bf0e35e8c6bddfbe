"""EKS's request rate per account and region, modelled as a token bucket (an assumption: see
below).

AWS publishes no EKS API rate. Most AWS control-plane APIs throttle each account and region
with a token bucket: a burst the bucket holds, refilled at a steady rate, every call taking
one token and a call that finds the bucket empty answered with 429 ``ThrottlingException``
"Rate exceeded". The simulator models exactly that, per account and the region a request was
signed for (the simulator answers every region alike), with numbers the caller chooses
(``--account-rate RATE/BURST``, or ``accountRate`` in ``POST /_sim/config``); off unless asked
for. The numbers a benchmark uses are its assumption and say so, not a measurement of EKS.

The account of a call is the account in the role ARN whose credentials (issued by this
simulator's STS) signed it; any other credentials are the simulator's own account. Buckets
run on the machine's monotonic clock, not the simulated one: a rate limit is about real
requests per second, and a manual simulated clock stands still.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class AccountRate(BaseModel):
    """One account's allowance: ``burst`` calls at once, refilled at ``per_second``."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    per_second: float = Field(gt=0, description="Tokens added per second.")
    burst: float = Field(ge=1, description="Tokens the bucket holds (and starts with).")


def parse_account_rate(value: str) -> AccountRate:
    """``RATE/BURST`` (e.g. ``20/100``) or ``RATE`` (a burst of one second's worth)."""
    rate, _, burst = value.partition("/")
    per_second = float(rate)
    return AccountRate(per_second=per_second, burst=float(burst) if burst else max(1, per_second))


class AccountThrottle:
    """The buckets, one per account (and region) that called. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # account -> (tokens, at)

    def admit(self, account: str, rate: AccountRate | None) -> bool:
        """Take one token of ``account``; ``False``: the bucket is empty (throttle the call).
        Always ``True`` when no rate is configured."""
        if rate is None:
            return True
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(account, (rate.burst, now))
            tokens = min(rate.burst, tokens + (now - at) * rate.per_second)
            admitted = tokens >= 1
            self._buckets[account] = (tokens - 1 if admitted else tokens, now)
            return admitted


def account_of(role_arn: str | None, default: str) -> str:
    """The account a call is charged to: the role's (``arn:aws:iam::ACCOUNT:role/...``),
    else ``default``."""
    if role_arn:
        parts = role_arn.split(":")
        if len(parts) > 4 and parts[4]:
            return parts[4]
    return default
