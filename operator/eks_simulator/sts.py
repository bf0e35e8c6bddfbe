"""The simulated STS: ``AssumeRole``, the credentials it issues, and the refusals tests set up.

Pure domain code, like ``state.py``: parameters in (model member names, already checked against
the model by ``sts_protocol.py``), response members out, or :class:`StsError`. On top of the
model's constraints it checks what STS itself checks, in this order:

1. ``RoleArn`` is an IAM role's ARN, else 400 ``ValidationError`` "Request ARN is invalid";
2. ``DurationSeconds`` (default 3600) fits the role's maximum session, the IAM default of
   3600 s, else 400 ``ValidationError``;
3. the role's trust lets the caller in, else 403 ``AccessDenied`` "User: <caller> is not
   authorized to perform: sts:AssumeRole on resource: <role>". Every role of every account
   exists and trusts every caller, unless a rule added through ``POST /_sim/faults`` says
   otherwise: ``deny-assume-role`` refuses, ``require-external-id`` refuses any other (or no)
   ``ExternalId``, as a trust policy's ``sts:ExternalId`` condition does. The simulator stands
   in for STS, not for IAM, so those rules are the whole trust model.

The credentials issued are remembered (access key id -> role and session), so the request
journal can say which role signed each later EKS call. Neither they nor the rules are saved in
the state file: like the HTTP-level fault rules, they are gone after a restart.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import string
from collections import OrderedDict
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic.alias_generators import to_camel

from eks_simulator.config import SimConfig
from eks_simulator.errors import StsError

ASSUME_ROLE: Final = "AssumeRole"

ROLE_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/"
    r"(?:[\x21-\x7e]*/)?(?P<name>[\w+=,.@-]{1,64})",
    re.ASCII,
)
"""An IAM role's ARN: partition, account, optional path, role name (IAM's characters)."""

DEFAULT_DURATION_SECONDS: Final = 3600
MAX_SESSION_SECONDS: Final = 3600
"""IAM's default ``MaxSessionDuration`` of a role; the simulator's roles all have it."""

SESSIONS_KEPT: Final = 100_000
"""Issued credentials remembered for the journal; the oldest are forgotten first."""

_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


class _Rule(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    role_arn: str = "*"
    """The role(s) the rule applies to: an ARN, or a glob (``*`` is every role)."""

    def applies_to(self, role_arn: str) -> bool:
        """Whether this rule is about ``role_arn``."""
        return fnmatchcase(role_arn, self.role_arn)


class DenyAssumeRole(_Rule):
    """``AssumeRole`` of the role is refused: on the next ``count`` calls, at ``rate``, or
    (neither given) on every call until the faults are cleared."""

    kind: Literal["deny-assume-role"]
    count: int | None = Field(default=None, ge=1)
    rate: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _count_or_rate(self) -> DenyAssumeRole:
        if self.count is not None and self.rate is not None:
            msg = "deny-assume-role takes 'count' or 'rate', not both"
            raise ValueError(msg)
        return self


class RequireExternalId(_Rule):
    """The role's trust policy requires this ``ExternalId``: any other, or none, is refused."""

    kind: Literal["require-external-id"]
    external_id: str = Field(min_length=2, max_length=1224)


StsRule = Annotated[DenyAssumeRole | RequireExternalId, Field(discriminator="kind")]
STS_RULE_KINDS: Final = frozenset({"deny-assume-role", "require-external-id"})
_RULE: TypeAdapter[DenyAssumeRole | RequireExternalId] = TypeAdapter(StsRule)


@dataclass(frozen=True, slots=True)
class RoleSession:
    """Who holds credentials the simulator issued."""

    role_arn: str
    session_name: str
    arn: str
    """The session's own ARN: ``arn:<partition>:sts::<account>:assumed-role/<role>/<session>``."""


class Sts:
    """The simulated STS of one simulator: its refusal rules and the sessions it issued.

    Parameters
    ----------
    seed
        Seed for the credentials and for rate-based refusals.
    """

    def __init__(self, *, seed: int | None = None) -> None:
        self.rules: list[DenyAssumeRole | RequireExternalId] = []
        # Not for security: the credentials only need to look like AWS's and be reproducible.
        self._rng = random.Random(seed)  # noqa: S311
        self._sessions: OrderedDict[str, RoleSession] = OrderedDict()

    # ------------------------------------------------------------------ rules

    def add(self, spec: dict[str, Any]) -> DenyAssumeRole | RequireExternalId:
        """Activate one rule from its JSON description (rules are consulted in order)."""
        rule = _RULE.validate_python(spec)
        self.rules.append(rule)
        return rule

    def describe(self) -> list[dict[str, Any]]:
        """The active rules, as they were added (counts as they stand now)."""
        return [rule.model_dump(by_alias=True, exclude_none=True) for rule in self.rules]

    def clear(self) -> None:
        """Remove every rule (issued credentials stay valid)."""
        self.rules.clear()

    def reset(self) -> None:
        """Remove every rule and forget every issued credential."""
        self.rules.clear()
        self._sessions.clear()

    # ------------------------------------------------------------------ sessions

    def session(self, access_key_id: str | None) -> RoleSession | None:
        """The role session whose credentials carry ``access_key_id``, if the simulator issued
        them."""
        return None if access_key_id is None else self._sessions.get(access_key_id)

    def caller_arn(self, access_key_id: str | None, config: SimConfig) -> str:
        """The caller as STS names it: the role session of credentials issued here (a chained
        AssumeRole), otherwise an IAM user of the simulator's account named by its key."""
        session = self.session(access_key_id)
        if session is not None:
            return session.arn
        return (
            f"arn:{config.partition}:iam::{config.account_id}:user/{access_key_id or 'anonymous'}"
        )

    # ------------------------------------------------------------------ AssumeRole

    def assume_role(self, params: dict[str, Any], *, caller: str, now: float) -> dict[str, Any]:
        """Temporary credentials of ``params["RoleArn"]`` (output members of AssumeRole).

        Parameters
        ----------
        params
            Validated input members (``RoleArn``, ``RoleSessionName``, ``ExternalId``, ...).
        caller
            The caller's ARN, for the ``AccessDenied`` message.
        now
            Simulated time: ``Expiration`` is ``now + DurationSeconds``.

        Raises
        ------
        StsError
            ``ValidationError`` or ``AccessDenied``, in the order of the module docstring.
        """
        role_arn: str = params["RoleArn"]
        role = ROLE_ARN.fullmatch(role_arn)
        if role is None:
            raise StsError("ValidationError", "Request ARN is invalid")
        duration: int = params.get("DurationSeconds", DEFAULT_DURATION_SECONDS)
        if duration > MAX_SESSION_SECONDS:
            raise StsError(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        if not self._trusted(role_arn, params.get("ExternalId")):
            raise StsError(
                "AccessDenied",
                f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: "
                f"{role_arn}",
            )
        session_name: str = params["RoleSessionName"]
        arn = (
            f"arn:{role['partition']}:sts::{role['account']}:assumed-role/"
            f"{role['name']}/{session_name}"
        )
        key = "ASIA" + self._random(_KEY_ALPHABET, 16)
        self._remember(key, RoleSession(role_arn, session_name, arn))
        return {
            "Credentials": {
                "AccessKeyId": key,
                "SecretAccessKey": self._random(_SECRET_ALPHABET, 40),
                "SessionToken": self._random(_SECRET_ALPHABET, 256),
                "Expiration": now + duration,
            },
            "AssumedRoleUser": {
                "AssumedRoleId": f"{_role_id(role_arn)}:{session_name}",
                "Arn": arn,
            },
            "SourceIdentity": params.get("SourceIdentity"),
        }

    def _trusted(self, role_arn: str, external_id: str | None) -> bool:
        for rule in list(self.rules):
            if not rule.applies_to(role_arn):
                continue
            if isinstance(rule, RequireExternalId):
                if external_id != rule.external_id:
                    return False
            elif self._fires(rule):
                return False
        return True

    def _fires(self, rule: DenyAssumeRole) -> bool:
        if rule.count is not None:
            rule.count -= 1
            if rule.count == 0:
                self.rules.remove(rule)
            return True
        if rule.rate is not None:
            return self._rng.random() < rule.rate
        return True

    def _random(self, alphabet: str, length: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def _remember(self, key: str, session: RoleSession) -> None:
        self._sessions[key] = session
        while len(self._sessions) > SESSIONS_KEPT:
            self._sessions.popitem(last=False)


def _role_id(role_arn: str) -> str:
    """A role's unique id (``AROA`` + 17 characters), the same for the same ARN every time, as
    a real role's id stays the same for the role's life."""
    digest = base64.b32encode(hashlib.sha256(role_arn.encode()).digest()).decode()
    return f"AROA{digest[:17]}"
