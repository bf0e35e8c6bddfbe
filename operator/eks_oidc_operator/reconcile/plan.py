"""Pure values: what a rule finds (a verdict) and the whole plan of a pass.

A rule recognises one situation and returns a :class:`Verdict`: how the pass ends in kstatus
terms, the words for conditions and events, and the EKS calls to make. The planner turns the
verdict into a :class:`Plan`, which adds what follows from it mechanically: the new status, the
events worth posting, and when to look again. The orchestrator executes a plan; it never makes
one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from eks_oidc_operator import constants
from eks_oidc_operator.models import (
    ConfigStatus,
    OidcConfigSpec,
    OidcIdentityProviderStatus,
    Phase,
)
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.timing import Backoff


class Kind(StrEnum):
    """How a pass ends, in kstatus terms."""

    READY = "Ready"
    """Ready=True: the config is ACTIVE and matches the spec."""
    WAIT = "Wait"
    """Reconciling=True: EKS is working (an update in flight, or one this plan starts)."""
    RETRY = "Retry"
    """Reconciling=True: nothing to do now; look again after a backoff."""
    STALL = "Stall"
    """Stalled=True: progress needs a human (or time, for the slow retries)."""
    RELEASE = "Release"
    """Deletion is complete: the finalizer may go."""


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to post."""

    type: EventType
    reason: str
    message: str


@dataclass(frozen=True)
class Associate:
    """AssociateIdentityProviderConfig: starts an update."""

    cluster: str
    name: str
    oidc: OidcConfigSpec
    tags: Mapping[str, str]
    token: str


@dataclass(frozen=True)
class Disassociate:
    """DisassociateIdentityProviderConfig: starts an update."""

    cluster: str
    name: str
    token: str


@dataclass(frozen=True)
class Tag:
    """TagResource on the config's ARN."""

    arn: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Untag:
    """UntagResource on the config's ARN."""

    arn: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class HoldOrder:
    """A verdict's order to hold: make no EKS calls for the object until its spec changes or a
    retry is asked for (the ``eksoidc.io/retry`` annotation), or until ``after`` seconds have
    passed (when set). Status records the hold itself as
    :class:`eks_oidc_operator.models.status.Hold`."""

    after: float | None = None
    kept: bool = False
    """The hold status records goes on unchanged (the pass that found it still holding)."""


KEPT = HoldOrder(kept=True)
"""The verdict of a pass that found the object held: status keeps its hold as it was."""

StartUpdate = Associate | Disassociate
"""The calls that start an EKS update: at most one per plan, always the last call."""

Call = Associate | Disassociate | Tag | Untag


@dataclass(frozen=True)
class Verdict:
    """What a rule found and what it calls for."""

    kind: Kind
    phase: Phase
    reason: str
    message: str
    events: tuple[Event, ...] = ()
    """Posted only when the Ready condition's reason or message changes: a pass that ends the
    same way as the last one is not news."""
    notices: tuple[Event, ...] = ()
    """Posted whenever the plan's calls are made: they report those calls."""
    calls: tuple[Call, ...] = ()
    adopt: bool = False
    """Record the observed config's ARN as this object's (adoption, or recovery after a crash)."""
    retry: Backoff | None = None
    """Run the pass again after this schedule's backoff; ``None``: on a change or a timer."""
    keep_recorded: bool = False
    """The pass learned nothing reliable about EKS (an error, a lost turn): status keeps the
    ARN, config status and update it recorded."""
    hold: HoldOrder | None = None
    """Stop calling EKS for the object after this verdict (permanent refusals)."""
    fallback: str | None = None
    """EKS refused the new config of a make-before-break replacement next to the old one: why.
    Status records it for the generation, whose replacement then deletes first."""
    after: float | None = None
    """Run the pass again after exactly this many seconds (a wait of known length), whatever
    ``retry`` says."""
    queued: bool = False
    """The object waits for its turn at the cluster gate: no retry timer, the gate wakes it."""
    paused: bool = False
    """The pause annotation stops the pass: status keeps everything but its Paused condition,
    and the object gives up its place at the cluster gate."""
    automatic_retry: bool = False
    """The verdict retries a failed EKS update by itself: it counts against the bound."""
    rule: str = ""
    """The rule that found it (set by the chain)."""

    @property
    def starts_update(self) -> StartUpdate | None:
        """The call of this verdict that starts an EKS update, if any."""
        return next((c for c in self.calls if isinstance(c, Associate | Disassociate)), None)


@dataclass(frozen=True)
class Plan:
    """Everything one pass does: the calls, the status to write, the events, when to look again."""

    verdict: Verdict
    status: OidcIdentityProviderStatus
    events: tuple[Event, ...] = ()
    retry_after: float | None = None
    """Run a pass again after so many seconds (owed by the poll timer; during deletion, kopf's
    TemporaryError of the finalize handler)."""
    poll_after: float | None = None
    """The poll timer's next look, while EKS works on something (not during deletion, when
    timers do not run and :attr:`retry_after` polls instead)."""
    polls: int = 0
    """The poll count the next pass continues from: 0 once nothing is in flight or an update
    starts, so each period of waiting for EKS starts its schedule over. (In deletion the delete
    handler's own retry count is the poll count, and this is only carried along.)"""

    @property
    def calls(self) -> tuple[Call, ...]:
        """The EKS calls to make, in order."""
        return self.verdict.calls

    @property
    def rule(self) -> str:
        """The rule that made the plan."""
        return self.verdict.rule

    @property
    def release(self) -> bool:
        """Deletion is complete: remove the finalizer."""
        return self.verdict.kind is Kind.RELEASE

    @property
    def in_flight(self) -> bool:
        """EKS is working on this object: the poll timer (or, in deletion, retries) follow it,
        and the cluster gate stays held."""
        return in_flight(self.status)


def waiting(status: OidcIdentityProviderStatus) -> bool:
    """Whether ``status`` describes an object the poll timer follows: EKS works on it, or it
    waits for its turn at the cluster gate (then the timer waits for the gate's wake-up)."""
    return in_flight(status) or status.queued_since is not None


def in_flight(status: OidcIdentityProviderStatus) -> bool:
    """Whether ``status`` describes work EKS is still doing (what the poll timer waits on)."""
    if status.update is not None and status.update.status == constants.UPDATE_IN_PROGRESS:
        return True
    settling = (ConfigStatus.CREATING, ConfigStatus.DELETING)
    if status.previous_config is not None and status.previous_config.config_status in settling:
        return True  # a replacement's other config: EKS finishes it after its update
    return status.config_status in (ConfigStatus.CREATING, ConfigStatus.DELETING) and (
        status.phase in (Phase.ASSOCIATING, Phase.REPLACING, Phase.DISASSOCIATING)
    )
