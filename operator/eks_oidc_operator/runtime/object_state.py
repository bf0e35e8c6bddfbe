"""What is kept of one object between its passes: one record in kopf's memo.

Each field has its reason:

- ``lock``: the change handler and the timers never run a pass of the object at the same time;
- ``status``: the status the last pass wrote, read instead of the body's, so the next pass never
  acts on a status older than its own (the watch event may still be on its way). It is kept as
  the compact JSON text it was written as, with the few facts the scheduler and the controls
  handler read on every watch event in ``facts``. (Kept as pydantic models, the statuses of
  1,000 objects took about 4 MiB more, measured with tracemalloc; as decoded dicts, even with
  keys and short strings shared, about three times the bytes of the text: some 2.5 KiB more
  per object. The next pass decodes it in microseconds.)
- ``polls`` and ``poll_after``: where the poll schedule of the work in flight stands, as the last
  plan said;
- ``poll_retries``: retries the poll timer owes a pass it ran that asked for one with nothing in
  flight (an object whose turn came meeting a throttle), as kopf does for a change handler;
- ``request_answered_at`` and ``request_due``: when the last user request (reconcile-now,
  retry) was answered, and when a request deferred by the request interval is owed its pass;
- ``placed``: the call rate gave the object's next pass a later place
  (:meth:`~eks_oidc_operator.runtime.pacing.aws_rate.CallPacer.place`): when the timer brings
  it there, it goes to admission without asking again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from eks_oidc_operator.models import OidcIdentityProviderStatus
from eks_oidc_operator.reconcile.plan import Plan
from eks_oidc_operator.reconcile.scheduling import Facts, TimerFacts


def packed(value: Any) -> bytes:
    """``value`` (JSON-able) as compact JSON bytes: how a body or a status is kept between
    passes (a third of the bytes of the decoded dicts)."""
    return json.dumps(value, separators=(",", ":")).encode()


KEY: Final = "state"
"""The record's key in the object's kopf memo."""


@dataclass(slots=True)
class ObjectState:
    """One object's record (see the module's notes for each field's reason)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    status: bytes | None = None
    facts: Facts | None = None
    polls: int = 0
    poll_after: float | None = None
    poll_retries: int = 0
    request_answered_at: float | None = None
    request_due: float | None = None
    placed: bool = False

    @classmethod
    def of(cls, memo: MutableMapping[str, Any]) -> ObjectState:
        """The record in an object's kopf memo (made on first use)."""
        state: ObjectState | None = memo.get(KEY)
        if state is None:
            state = memo[KEY] = cls()
        return state

    def remember(self, plan: Plan, written: Mapping[str, Any]) -> None:
        """Keep what a pass planned: its status (``written`` is its JSON) and its poll
        schedule."""
        self.status = packed(written)  # a copy: kopf may still change the patch it went into
        self.facts = Facts.of(plan.status)
        self.polls, self.poll_after = plan.polls, plan.poll_after

    def remembered(self) -> OidcIdentityProviderStatus | None:
        """The status the last pass of this process wrote, if any."""
        return (
            None
            if self.status is None
            else OidcIdentityProviderStatus.model_validate_json(self.status)
        )

    def forget_status(self) -> None:
        """The remembered status was never written: the next pass compares with the body's."""
        self.status, self.facts = None, None

    def facts_or(self, body_status: Mapping[str, Any]) -> Facts | None:
        """The facts of the status the last pass wrote, else of the body's (``None``:
        unreadable)."""
        if self.facts is not None:
            return self.facts
        try:
            return Facts.of(OidcIdentityProviderStatus.model_validate(dict(body_status)))
        except ValidationError:
            return None

    def timer_facts(self, body_status: Mapping[str, Any]) -> TimerFacts:
        """What the scheduler reads to choose the object's timer."""
        facts = self.facts_or(body_status)
        return TimerFacts(
            waiting=facts is not None and facts.waiting,
            queued=facts is not None and facts.queued,
            owed=bool(self.poll_retries),
            poll_after=self.poll_after,
        )

    def owe_retry(self, after: float) -> None:
        """The poll timer owes the object a pass in ``after`` seconds."""
        self.poll_retries = max(1, self.poll_retries)
        self.poll_after = after

    def answered_request(self, now: float) -> None:
        """This pass answers a user's request: the next waits the request interval."""
        self.request_answered_at = now
        self.request_due = None
