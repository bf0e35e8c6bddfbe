"""Pure: from an observation to the whole plan of a pass.

:func:`plan` asks the rule chain for a verdict and adds what follows from it mechanically: the
new status (conditions with kstatus semantics), the events worth posting, and when to look
again. :func:`started` is the same for the one answer that changes a plan: the update an
Associate or Disassociate call started, which status records at once.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from eks_oidc_operator import constants
from eks_oidc_operator.constants import CONDITION_ISSUER_VERIFIED
from eks_oidc_operator.models import (
    ConditionStatus,
    ConfigStatus,
    EksUpdate,
    Fallback,
    Hold,
    OidcIdentityProviderStatus,
    PreviousConfig,
)
from eks_oidc_operator.reconcile import conditions, reasons, rules
from eks_oidc_operator.reconcile.conditions import ConditionSpec
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.guards.issuer import NOT_CHECKED, VERIFIED, Severity, severity
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import (
    Associate,
    Disassociate,
    Event,
    Kind,
    Plan,
    Verdict,
    in_flight,
)
from eks_oidc_operator.reconcile.reasons import EventType
from eks_oidc_operator.reconcile.timing import poll_delay, retry_delay


def plan(obs: Observation, ctx: Context) -> Plan:
    """The plan of a pass that observed ``obs``."""
    return _planned(obs, ctx, rules.verdict(obs, ctx))


def _planned(obs: Observation, ctx: Context, verdict: Verdict) -> Plan:
    if verdict.paused:
        return _paused(obs, ctx, verdict)
    verdict = _as_last_said(obs, verdict)
    status = _status(obs, ctx, verdict)
    events = (
        *_resumed(obs),
        *_issuer_warning(obs),
        *_worth_posting(obs.obj.status, verdict),
        *verdict.notices,
    )
    return _scheduled(Plan(verdict, status, events), obs, ctx)


def _paused(obs: Observation, ctx: Context, verdict: Verdict) -> Plan:
    """The plan of a paused pass: status as it was but for the Paused condition, its event
    only when the condition is new (or says something new), and no timer. A paused deletion
    looks again at the poll schedule's pace, since no change handler runs on a deleted object."""
    previous = obs.obj.status
    old = conditions.find(previous.conditions, constants.CONDITION_PAUSED)
    wanted = ConditionSpec(
        constants.CONDITION_PAUSED, ConditionStatus.TRUE, verdict.reason, verdict.message
    )
    status = previous.model_copy(
        update={
            "conditions": conditions.set_condition(
                previous.conditions, wanted, now=ctx.now, generation=obs.obj.metadata.generation
            )
        }
    )
    news = old is None or (old.status, old.message) != (ConditionStatus.TRUE, verdict.message)
    retry_after = ctx.timings.poll_max if obs.deleting else None
    return Plan(
        verdict, status, verdict.events if news else (), retry_after=retry_after, polls=ctx.polls
    )


def _as_last_said(obs: Observation, verdict: Verdict) -> Verdict:
    """``verdict``, in the words the status already has when the pass only found the update it
    waits for still running.

    Such a poll learns nothing new, so it restates nothing: the conditions keep the message of
    the pass that started (or first saw) the update, and the status it plans is the one it
    read, which is not written again. Every association would otherwise cost one more status
    write, and one more watch event for every watcher, at its first poll.
    """
    recorded, running = obs.obj.status.update, obs.in_progress
    if verdict.kind is not Kind.WAIT or not obs.only_polled:
        return verdict
    if recorded is None or running is None or running.id != recorded.id:
        return verdict  # another update than the one status records: news
    said = conditions.find(obs.obj.status.conditions, constants.CONDITION_READY)
    if said is None or said.reason != verdict.reason or said.message == verdict.message:
        return verdict
    return dataclasses.replace(verdict, message=said.message)


def _resumed(obs: Observation) -> tuple[Event, ...]:
    """The event of the first pass after a pause (its condition goes with this pass)."""
    if conditions.find(obs.obj.status.conditions, constants.CONDITION_PAUSED) is None:
        return ()
    message = f"The {constants.PAUSED_ANNOTATION} annotation is gone: managed again"
    return (Event(EventType.NORMAL, reasons.RESUMED, message),)


def plan_before_eks(obs: Observation, ctx: Context) -> Plan | None:
    """The plan of a pass that ends before any AWS call, or ``None`` when EKS must be read."""
    verdict = rules.verdict_before_eks(obs, ctx)
    if verdict is None:
        return None
    return _planned(obs, ctx, verdict)


def started(obs: Observation, ctx: Context, draft: Plan, update: EksUpdate) -> Plan:
    """``draft`` once its Associate or Disassociate call has returned ``update``.

    Status records the update (and the config's new EKS status) so that it is written before
    anything else can fail; the event that announces the call names the update.
    """
    verdict = draft.verdict
    call = verdict.starts_update
    changes: dict[str, object] = {
        "update": _recorded(update),
        "update_generation": obs.obj.metadata.generation,
    }
    previous = draft.status.previous_config
    if isinstance(call, Disassociate) and previous is not None and call.name == previous.name:
        # The old config of a replacement goes; the one worked on stays as it is.
        changes["previous_config"] = previous.model_copy(
            update={"config_status": ConfigStatus.DELETING}
        )
    else:
        creating = isinstance(call, Associate)
        changes["config_status"] = ConfigStatus.CREATING if creating else ConfigStatus.DELETING
    status = draft.status.model_copy(update=changes)
    status = status.model_copy(update={"serving_config_name": _serving(status)})
    announcement = Event(
        EventType.NORMAL, verdict.reason, f"{verdict.message} (EKS update {update.id})"
    )
    return _scheduled(Plan(verdict, status, (*draft.events, announcement)), obs, ctx)


def _status(obs: Observation, ctx: Context, verdict: Verdict) -> OidcIdentityProviderStatus:
    previous, obj = obs.obj.status, obs.obj
    arn, config_status, update = _eks_view(obs, verdict)
    status = OidcIdentityProviderStatus(
        observed_generation=obj.metadata.generation,
        phase=verdict.phase,
        region=ctx.region,
        identity_provider_config_name=(
            previous.identity_provider_config_name or obj.config_name
            if verdict.keep_recorded
            else obs.config_name
        ),
        identity_provider_config_arn=arn,
        config_status=config_status,
        previous_config=_previous_config(obs, verdict),
        replacement_fallback=_fallback(obs, verdict),
        update=update,
        update_generation=_update_generation(previous, update),
        hold=_hold(obs, ctx, verdict),
        queued_since=(previous.queued_since or ctx.now) if verdict.queued else None,
        retry_request=obj.retry_request,
        last_handled_reconcile_at=obj.reconcile_request,
        observed_config_arn=_observed_arn(obs, verdict),
        automatic_retries=_automatic_retries(obs, verdict),
        conditions=conditions.apply_conditions(
            [c for c in previous.conditions if c.type != constants.CONDITION_PAUSED],
            [*_conditions(verdict), *_issuer_condition(obs)],
            now=ctx.now,
            generation=obj.metadata.generation,
        ),
    )
    return status.model_copy(update={"serving_config_name": _serving(status)})


def _eks_view(
    obs: Observation, verdict: Verdict
) -> tuple[str | None, ConfigStatus | None, EksUpdate | None]:
    """What status says about EKS after this pass: ARN, config status and update."""
    previous = obs.obj.status
    if verdict.keep_recorded:
        return previous.identity_provider_config_arn, previous.config_status, previous.update
    update = _recorded(obs.update) or previous.update
    if obs.obj.observe_only:
        # What the object owns stays as recorded: observing a config never makes it ours (a
        # later switch to Full must go through the adoption rules).
        return previous.identity_provider_config_arn, obs.config_status, update
    return _eks_arn(obs, verdict), _eks_config_status(obs), update


def _eks_arn(obs: Observation, verdict: Verdict) -> str | None:
    """The ARN status records: the observed config's once it is this object's (adopted,
    recorded, or created by it), else the one recorded for the config worked on."""
    config, arn = obs.config, obs.recorded_arn
    if config is not None and (verdict.adopt or arn == config.arn or obs.created_by_us):
        return config.arn
    return arn


def _eks_config_status(obs: Observation) -> ConfigStatus | None:
    """The config status status records: as observed, as recorded when the pass did not look,
    and none when it looked and found no config."""
    if obs.config is not None:
        return obs.config_status
    if obs.only_polled:
        return obs.obj.status.config_status  # not looked at while EKS works on the update
    return None  # looked at, and gone


def _observed_arn(obs: Observation, verdict: Verdict) -> str | None:
    """The ARN of the config an observing pass read (as recorded, when it read nothing)."""
    if not obs.obj.observe_only:
        return None
    if verdict.keep_recorded:
        return obs.obj.status.observed_config_arn
    return obs.config.arn if obs.config is not None else None


def _previous_config(obs: Observation, verdict: Verdict) -> PreviousConfig | None:
    """The old config of a replacement, as this pass saw it (as recorded, when it did not)."""
    if verdict.keep_recorded or obs.only_polled or obs.obj.observe_only:
        return obs.obj.status.previous_config
    old = obs.previous
    if old is None:
        return None
    return PreviousConfig(name=old.name, arn=old.arn, config_status=ConfigStatus(old.status))


def _fallback(obs: Observation, verdict: Verdict) -> Fallback | None:
    """A replacement's fallback to deleting first: recorded for its generation only."""
    generation = obs.obj.metadata.generation
    if verdict.fallback is not None:
        return Fallback(generation=generation, reason=verdict.fallback)
    recorded = obs.obj.status.replacement_fallback
    return recorded if recorded is not None and recorded.generation == generation else None


def _serving(status: OidcIdentityProviderStatus) -> str | None:
    """The ACTIVE config sign-in goes through: the one worked on, else the old one."""
    if status.config_status == ConfigStatus.ACTIVE:
        return status.identity_provider_config_name
    old = status.previous_config
    if old is not None and old.config_status == ConfigStatus.ACTIVE:
        return old.name
    return None


def _update_generation(
    previous: OidcIdentityProviderStatus, update: EksUpdate | None
) -> int | None:
    """The generation the recorded update was started for, while it is still the one recorded
    (a recovered or adopted update's is not known)."""
    same = update is not None and previous.update is not None and update.id == previous.update.id
    return previous.update_generation if same else None


def _issuer_condition(obs: Observation) -> list[ConditionSpec]:
    """IssuerVerified, when this pass ran the pre-flight (otherwise the last finding stays).
    A check that got no turn is no finding: the condition says so, as Unknown."""
    check = obs.checks.issuer
    if check is None:
        return []
    if check.problem is None:
        found = ConditionStatus.TRUE
    elif check.problem == NOT_CHECKED:
        found = ConditionStatus.UNKNOWN
    else:
        found = ConditionStatus.FALSE
    return [
        ConditionSpec(CONDITION_ISSUER_VERIFIED, found, check.problem or VERIFIED, check.message)
    ]


def _issuer_warning(obs: Observation) -> tuple[Event, ...]:
    """A Warning for an issuer finding that only warns, when it is new."""
    check = obs.checks.issuer
    if check is None or severity(check, obs.checks.issuer_mode) is not Severity.WARN:
        return ()
    old = conditions.find(obs.obj.status.conditions, CONDITION_ISSUER_VERIFIED)
    if old is not None and (old.reason, old.message) == (check.problem, check.message):
        return ()
    return (Event(EventType.WARNING, check.problem or "", check.message),)


def _hold(obs: Observation, ctx: Context, verdict: Verdict) -> Hold | None:
    """The hold status records after this pass: none, the one it found, or a new one."""
    if verdict.hold is None:
        return None
    if verdict.hold.kept:
        return obs.obj.status.hold
    after = verdict.hold.after
    return Hold(
        reason=verdict.reason,
        generation=obs.obj.metadata.generation,
        until=ctx.now + timedelta(seconds=after) if after is not None else None,
        deleting=obs.deleting,
    )


def _automatic_retries(obs: Observation, verdict: Verdict) -> int:
    """Automatic retries of failed updates spent: counted per generation and per retry request
    (a new spec or a user's request starts over), and forgotten once Ready."""
    previous, obj = obs.obj.status, obs.obj
    fresh = (
        verdict.kind is Kind.READY
        or previous.observed_generation != obj.metadata.generation
        or obj.asked_again
    )
    spent = 0 if fresh else previous.automatic_retries or 0
    return spent + 1 if verdict.automatic_retry else spent


def _conditions(verdict: Verdict) -> list[ConditionSpec]:
    if verdict.kind is Kind.READY:
        return conditions.ready(verdict.reason, verdict.message)
    if verdict.kind is Kind.STALL:
        return conditions.stalled(verdict.reason, verdict.message)
    return conditions.reconciling(verdict.reason, verdict.message)


def _worth_posting(previous: OidcIdentityProviderStatus, verdict: Verdict) -> tuple[Event, ...]:
    """Events on transitions only: a pass that ends the same way as the last is not news."""
    old = conditions.find(previous.conditions, constants.CONDITION_READY)
    if old is not None and (old.reason, old.message) == (verdict.reason, verdict.message):
        return ()
    return verdict.events


def _scheduled(draft: Plan, obs: Observation, ctx: Context) -> Plan:
    """``draft`` with when to look again, and the poll count the next pass continues from."""
    verdict = draft.verdict
    polls = 0 if verdict.starts_update is not None else ctx.polls
    retry_after = _retry_after(verdict, ctx)
    if obs.deleting:
        retry_after = _deleting_retry_after(draft, retry_after, polls, ctx)
        return dataclasses.replace(draft, retry_after=retry_after, polls=polls)
    if not in_flight(draft.status):
        return dataclasses.replace(draft, retry_after=retry_after, polls=0)
    return dataclasses.replace(
        draft, retry_after=retry_after, poll_after=_next_poll(draft.status, polls, ctx), polls=polls
    )


def _next_poll(status: OidcIdentityProviderStatus, polls: int, ctx: Context) -> float:
    """The delay before the next poll of the work in flight: on the update's learned window
    when EKS runs one (its age known), else on the first schedule."""
    update = status.update
    if update is None or update.status != constants.UPDATE_IN_PROGRESS or not update.created_at:
        return poll_delay(polls, ctx.timings)
    elapsed = max(0.0, (ctx.now - update.created_at).total_seconds())
    return poll_delay(polls, ctx.timings, elapsed, ctx.windows.get(update.type or ""))


def _retry_after(verdict: Verdict, ctx: Context) -> float | None:
    """When the verdict asks to run again: exactly its ``after``, else when its hold is up,
    else its retry's backoff (``None``: on a change or a timer)."""
    # Drawn even when overridden below, so the jitter's random sequence stays the same.
    retry_after = (
        retry_delay(verdict.retry, ctx.retries, ctx.timings, ctx.rng) if verdict.retry else None
    )
    if verdict.hold is not None and verdict.hold.after is not None:
        retry_after = verdict.hold.after  # look again when the hold is up, not before
    if verdict.after is not None:
        retry_after = verdict.after
    return retry_after


def _deleting_retry_after(
    draft: Plan, retry_after: float | None, polls: int, ctx: Context
) -> float | None:
    """When a pass on a deleted object runs again: never once released, at the poll pace
    while it waits, else as asked (at the longest poll interval when not asked)."""
    # Timers do not run on a deleted object: the delete handler polls by being retried, and
    # never waits for a change that cannot come (a stuck finalizer blocks the namespace).
    if draft.verdict.kind is Kind.RELEASE:
        return None
    if draft.verdict.kind is Kind.WAIT:
        return _next_poll(draft.status, polls, ctx)
    return ctx.timings.poll_max if retry_after is None else retry_after


def _recorded(update: EksUpdate | None) -> EksUpdate | None:
    """An update as status keeps it: without the config names only EKS's own answer carries
    (they are not written, so a status read back from the API server never has them either)."""
    return update.model_copy(update={"config_names": ()}) if update is not None else None
