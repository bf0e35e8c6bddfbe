"""Injected faults: decide, per EKS call, whether to answer with an error instead.

Pure decision code over a list of rules; the HTTP layer asks :meth:`FaultPlan.before` before
running an operation and :meth:`FaultPlan.after_commit` after the state has changed. Two
faults live in the domain instead (they are state, not transport): the phantom update in
progress (``EksState.start_phantom_update``) and the association or disassociation that ends
Failed (``EksState.plan_failure``).

A rule fires either on each of the *next N* matching calls (``count``) or at random with
probability ``rate``; a rule with a count is removed once used up.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

FaultKind = Literal[
    "throttle",
    "too-many-requests",
    "server-error",
    "unavailable",
    "lost-response",
]
"""HTTP-level fault kinds:

* ``throttle`` - 429 ``ThrottlingException`` "Rate exceeded" (optionally with
  ``x-amz-retry-after``);
* ``too-many-requests`` - 429 ``TooManyRequestsException`` "Too Many Requests", the
  unmodeled code EKS has been seen to send (docs/eks-behaviour.md §2.2);
* ``server-error`` - 500 ``ServerException``;
* ``unavailable`` - 503 ``ServiceUnavailableException``;
* ``lost-response`` - the operation *runs and commits*, then the client gets a 500, as
  when a response is lost on the way back; exercises ``clientRequestToken`` replay.
"""


class FaultRule(BaseModel):
    """One HTTP-level fault rule (JSON body of ``POST /_sim/faults``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    kind: FaultKind
    operation: str = "*"
    """EKS operation name, e.g. ``AssociateIdentityProviderConfig``; ``*`` for all."""
    count: int | None = Field(default=None, ge=1)
    """Fire on the next ``count`` matching calls."""
    rate: float | None = Field(default=None, ge=0, le=1)
    """Fire on each matching call with this probability."""
    retry_after_ms: int | None = Field(default=None, ge=0)
    """For ``throttle``: send ``x-amz-retry-after`` (milliseconds, honoured by botocore)."""

    @model_validator(mode="after")
    def _count_or_rate(self) -> FaultRule:
        if (self.count is None) == (self.rate is None):
            msg = "a fault rule needs exactly one of 'count' or 'rate'"
            raise ValueError(msg)
        return self

    def matches(self, operation: str) -> bool:
        """Whether this rule applies to a call of ``operation``."""
        return self.operation in ("*", operation)


class InjectedError(BaseModel):
    """What to answer instead of (or after) the real operation."""

    code: str
    status: int
    message: str
    retry_after_ms: int | None = None


_ERRORS: dict[FaultKind, tuple[str, int, str]] = {
    "throttle": ("ThrottlingException", 429, "Rate exceeded"),
    "too-many-requests": ("TooManyRequestsException", 429, "Too Many Requests"),
    "server-error": ("ServerException", 500, "An internal error occurred. Try again."),
    "unavailable": ("ServiceUnavailableException", 503, "The service is unavailable. Try again."),
    "lost-response": ("ServerException", 500, "An internal error occurred. Try again."),
}


class FaultPlan:
    """The active fault rules and the random generator that drives rate-based ones."""

    def __init__(self, rules: list[FaultRule] | None = None, *, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = list(rules or [])
        self._rng = random.Random(seed)  # noqa: S311 - fault dice, not security

    def add(self, rule: FaultRule) -> None:
        """Activate one more rule (rules are consulted in the order added)."""
        self.rules.append(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def before(self, operation: str) -> InjectedError | None:
        """The error to answer *instead of* running ``operation``, if a rule fires."""
        return self._fire(operation, lost=False)

    def after_commit(self, operation: str) -> InjectedError | None:
        """The error to answer *after* ``operation`` committed (``lost-response``)."""
        return self._fire(operation, lost=True)

    def _fire(self, operation: str, *, lost: bool) -> InjectedError | None:
        if not self.rules:
            return None  # the common case, kept cheap for throughput
        for rule in self.rules:
            if (rule.kind == "lost-response") != lost or not rule.matches(operation):
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count == 0:
                    self.rules.remove(rule)
            elif self._rng.random() >= (rule.rate or 0.0):
                continue
            code, status, message = _ERRORS[rule.kind]
            return InjectedError(
                code=code, status=status, message=message, retry_after_ms=rule.retry_after_ms
            )
        return None
