"""The kopf handlers of ``OidcIdentityProvider``: parse, run one pass in a thread, write it.

- ``reconcile`` (create / update of spec / resume): one idempotent pass; when the plan says
  when to retry (cluster busy or missing, ...), the poll timer owes the object that pass.
- ``poll_pass`` (the scheduler's poll timer, only while an EKS update or config transition is in
  flight, while the object waits for its turn at the cluster gate, or while a timer owes a pass
  a retry): one pass (usually one DescribeUpdate), when the last plan said (or, queued, when
  the gate wakes it). Settled objects are never polled, so they cost no EKS calls.
- ``resync_pass`` (the scheduler's drift timer, only while nothing is in flight): a jittered,
  slow pass that notices drift (the config removed or changed outside) and retries stalled
  failures that may have cleared.
- ``finalize`` (delete): passes until the plan releases the object (disassociated, retained, or
  nothing to do), each retry as soon as the plan says.
- ``controls`` (every watch event): a pass at once when the ``eksoidc.io/paused``,
  ``eksoidc.io/reconcile-requested-at`` or ``eksoidc.io/retry`` annotation asks for one that no
  pass has answered. No timer runs for a paused object, so a pause costs nothing until it is
  lifted, and lifting it resumes at once.
- ``object_gauges`` (every watch event): the objects' gauges, and the object's timer.

The timers are not kopf's: one scheduler (:mod:`eks_oidc_operator.runtime.pacing.timers`) keeps
every object's, for a fraction of the memory; it decides when, these handlers' passes decide
what.

The handlers decide nothing and gather nothing: each is parse, one pass
(:func:`eks_oidc_operator.runtime.passes.run`), write the plan, which carries the status, the
events, and when to look again. What they keep of an object between passes is one record in
kopf's memo (:class:`eks_oidc_operator.runtime.object_state.ObjectState`, each field with its
reason).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import kopf
from pydantic import ValidationError

from eks_oidc_operator import constants, metrics
from eks_oidc_operator.kopf_private import links as kopf_links
from eks_oidc_operator.kopf_private.links import KopfLinks
from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.reconcile.guards.claims import Claim, ClaimKey, indexed
from eks_oidc_operator.reconcile.plan import Plan, waiting
from eks_oidc_operator.reconcile.scheduling import (
    Timer,
    TimerFacts,
    asks_for_a_pass,
    paused,
    request_wait,
    waits_for_its_drift_check,
)
from eks_oidc_operator.runtime import passes
from eks_oidc_operator.runtime.object_state import ObjectState
from eks_oidc_operator.runtime.services import Runtime

RESOURCE = (constants.GROUP, constants.VERSION, constants.PLURAL)
_log = logging.getLogger(__name__)


def _parse(body: kopf.Body, memo: kopf.Memo) -> OidcIdentityProvider:
    raw: dict[str, Any] = {
        "metadata": dict(body.get("metadata", {})),
        "spec": dict(body.get("spec", {})),
        "status": dict(body.get("status", {})),
    }
    last = ObjectState.of(memo).remembered()
    try:
        obj = OidcIdentityProvider.model_validate(raw)
    except ValidationError as error:
        # The CRD's schema and CEL refuse all of this at apply time; reaching here means the
        # CRD is older than the operator. Nothing to do until the object changes.
        raise kopf.PermanentError(f"invalid object: {error}") from error
    if last is not None:
        obj = obj.model_copy(update={"status": last})
    return obj


async def _pass(  # noqa: PLR0913 - the handler's kwargs, passed on one by one
    body: kopf.Body,
    memo: kopf.Memo,
    patch: kopf.Patch,
    trigger: str,
    *,
    retries: int,
    polls: int,
    claims: kopf.Index[ClaimKey, Claim] | None = None,
) -> Plan:
    """Parse, one pass, write: under the object's lock, so no two passes of it overlap."""
    runtime: Runtime = memo["runtime"]
    state = ObjectState.of(memo)
    async with state.lock:
        started = time.monotonic()
        obj = _parse(body, memo)
        if obj.asked_again:  # this pass answers a user's request: the next waits its interval
            state.answered_request(started)
        try:
            plan = await passes.run(obj, runtime, claims, retries=retries, polls=polls)
        except Exception:
            metrics.record_pass(trigger, obj.status.phase, time.monotonic() - started, "error")
            raise
        _write(plan, obj, body, patch, state=state, runtime=runtime, trigger=trigger)
        result = "retry" if plan.retry_after is not None else "ok"
        metrics.record_pass(trigger, plan.status.phase, time.monotonic() - started, result)
    runtime.timers.passed(str(obj.metadata.uid or ""))  # its timer may change with the status
    return plan


def _write(  # noqa: PLR0913 - the pass's parts, each needed once
    plan: Plan,
    obj: OidcIdentityProvider,
    body: kopf.Body,
    patch: kopf.Patch,
    *,
    state: ObjectState,
    runtime: Runtime,
    trigger: str,
) -> None:
    """What the plan says goes out: the status (only when it changed: API writes follow
    changes, not passes), the events, and the record of the pass."""
    # Which rule recognised the situation is the first thing to know when debugging one.
    _log.debug(
        "%s/%s %s: rule %s, %d call(s), phase %s",
        obj.metadata.namespace,
        obj.metadata.name,
        trigger,
        plan.rule,
        len(plan.calls),
        plan.status.phase,
    )
    written = plan.status.model_dump(mode="json", by_alias=True)
    if plan.status != obj.status:
        patch.status.update(written)
    state.remember(plan, written)
    for event in plan.events:
        runtime.post_event(body, event)
        metrics.record_event(event.type, event.reason)


async def object_gauges(
    event: kopf.RawEvent, memo: kopf.Memo, links: KopfLinks | None = None, **kwargs: Any
) -> None:
    """Every watch event of every object feeds the objects' gauges and the timers (a deletion
    removes it from both). On the event loop, not in a thread: the timers live there.

    A deletion also takes the object out of the cluster gate: one whose finalizer a human
    removed never passes again, and must not keep its cluster's queue waiting.
    """
    body = event.get("object") or {}
    uid = str((body.get("metadata") or {}).get("uid", ""))
    if not uid:
        return
    deleted = event.get("type") == "DELETED"
    if deleted:
        metrics.OBJECTS.gone(uid)
    else:
        metrics.OBJECTS.seen(uid, body)
    runtime: Runtime | None = memo.get("runtime")
    if runtime is None:
        return
    if links is not None and links.resource is None and "resource" in kwargs:
        # What a timer's pass needs of kopf that only a resource handler is given.
        kopf_links.adopt(links, runtime.timers, kwargs)
    if deleted:
        runtime.gate.forget(uid)
        runtime.timers.gone(uid)
    else:
        runtime.timers.seen(body, memo)


async def claims_index(body: kopf.Body, memo: kopf.Memo, **_: Any) -> dict[ClaimKey, Claim] | None:
    """Index of every object by the config it names (kopf keeps it current from the watch; see
    :func:`~eks_oidc_operator.reconcile.guards.claims.indexed`)."""
    return indexed(body, memo["runtime"].default_region)


def _again(plan: Plan) -> kopf.TemporaryError:
    """kopf's signal to run the handler again after the plan's delay."""
    verdict = plan.verdict
    return kopf.TemporaryError(f"{verdict.reason}: {verdict.message}", delay=plan.retry_after)


def timer_facts(body: Mapping[str, Any], memo: kopf.Memo) -> TimerFacts:
    """What the scheduler needs of an object to choose its timer (see :class:`TimerFacts`)."""
    return ObjectState.of(memo).timer_facts(body.get("status") or {})


async def reconcile_handler(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, **kwargs: Any
) -> None:
    """Create, spec update, resume: one pass. A retry it asks for is owed by the poll timer,
    not kopf (see :func:`_owe`). A resumed object that was settled waits for its drift check
    instead (a restart is no burst)."""
    if kwargs.get("reason") == "resume" and waits_for_its_drift_check(_parse(body, memo)):
        return
    if _waits_its_place(body, memo):
        return
    state = ObjectState.of(memo)
    plan = await _pass(
        body, memo, patch, "reconcile", retries=0, polls=state.polls, claims=kwargs.get("claims")
    )
    state.poll_retries = 0  # a new spec (or a start) begins its backoff again
    _owe(plan, state, memo["runtime"], body)


def _waits_its_place(body: kopf.Body, memo: kopf.Memo) -> bool:
    """Whether the pass is handed to the poll timer for a later place at its account's call
    rate, rather than waiting at admission with its body and inputs held (see
    :meth:`~eks_oidc_operator.runtime.pacing.aws_rate.CallPacer.place`). Never a paused
    object's: its pass makes no EKS call, and its timer would not run."""
    runtime: Runtime = memo["runtime"]
    state = ObjectState.of(memo)
    if state.placed:  # brought here by the timer, at its place: it goes
        state.placed = False
        return False
    if paused(body.get("metadata", {}).get("annotations") or {}):
        return False
    delay = runtime.pacer.place(passes.rate_key_of(body, runtime.default_region))
    if delay is None:
        return False
    state.placed = True
    state.owe_retry(delay)
    runtime.timers.passed(str(body.get("metadata", {}).get("uid") or ""))
    return True


def _owe(plan: Plan, state: ObjectState, runtime: Runtime, body: kopf.Body) -> None:
    """A retry the plan asks for with nothing in flight is owed by the object's poll timer,
    not kopf's ``TemporaryError`` (two API writes per retry, and some of its wake-ups never
    came in a burst of 10,000: docs/architecture.md §2). In flight or queued, the timer
    follows the object anyway."""
    if plan.retry_after is None or waiting(plan.status):
        return
    state.owe_retry(plan.retry_after)
    runtime.timers.passed(str(body.get("metadata", {}).get("uid") or ""))


async def controls_handler(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, **kwargs: Any
) -> None:
    """Every watch event: a pass now when the object's annotations ask for one that no pass
    has answered. A deleted object is left to the finalize handler, which alone may release it.
    """
    # A watch handler, not change handlers on those annotations, for two reasons of kopf's:
    # its change detection leaves out every annotation under its storage prefix (ours), and it
    # runs no change handler while a create or update handler waits out a retry delay.
    meta = body.get("metadata", {})
    state = ObjectState.of(memo)
    facts = state.facts_or(body.get("status", {}))
    annotations = meta.get("annotations", {})
    if meta.get("deletionTimestamp") or facts is None or not asks_for_a_pass(annotations, facts):
        return
    runtime: Runtime = memo["runtime"]
    uid = str(meta.get("uid") or "")
    if _deferred(state, runtime, paused(annotations) == facts.paused_shown):
        runtime.timers.passed(uid)
        return
    plan = await _pass(
        body, memo, patch, "control", retries=0, polls=state.polls, claims=kwargs.get("claims")
    )
    _owe(plan, state, runtime, body)


def _deferred(state: ObjectState, runtime: Runtime, pause_unchanged: bool) -> bool:
    """A reconcile-now or retry request within the interval of the last one answered is
    answered once the interval is up, by the poll timer (a flood of values costs one pass per
    interval, not one each); a pause set or lifted never waits."""
    now = time.monotonic()
    wait = request_wait(state.request_answered_at, now, runtime.settings.request_interval_seconds)
    if wait <= 0 or not pause_unchanged:
        return False
    state.owe_retry(wait)
    # Kept apart too: a pass already running ends by resetting what the timer owes.
    state.request_due = now + wait
    metrics.REQUESTS_DEFERRED.inc()
    return True


async def poll_pass(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, claims: Any = None
) -> None:
    """The poll timer is due (see :mod:`~eks_oidc_operator.runtime.pacing.timers`
    for when): one pass, this poll counted
    in it."""
    if _waits_its_place(body, memo):
        return
    state = ObjectState.of(memo)
    retries = state.poll_retries
    plan = await _pass(
        body, memo, patch, "poll", retries=retries, polls=state.polls + 1, claims=claims
    )
    if plan.retry_after is not None and not waiting(plan.status):
        # The pass of an object whose turn came met trouble (a throttle, a 5xx) with nothing in
        # flight: no change handler runs to retry it, so the timer does, on the plan's backoff.
        state.poll_retries, state.poll_after = retries + 1, plan.retry_after
    elif (due := state.request_due) is not None and due > time.monotonic():
        # A request deferred while this pass ran is still owed its pass at the interval's end.
        state.poll_retries, state.poll_after = 1, due - time.monotonic()
    else:
        state.poll_retries = 0


async def resync_pass(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, claims: Any = None
) -> None:
    """Settled objects, now and then: drift, and stalled failures whose retry is due."""
    if _waits_its_place(body, memo):
        return
    state = ObjectState.of(memo)
    await _pass(body, memo, patch, "resync", retries=0, polls=state.polls, claims=claims)


async def finalize_handler(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, retry: int, **_: Any
) -> None:
    """Deletion: passes until the plan releases the object (timers stop on deletion, so the
    handler's own retries are the polls)."""
    plan = await _pass(body, memo, patch, "finalize", retries=retry, polls=retry)
    if not plan.release:
        raise _again(plan)
    # Released: out of the gauges now, even if the watch never delivers the DELETED event
    # (a re-list after a lost watch does not replay deletions).
    uid = str(body.get("metadata", {}).get("uid", ""))
    metrics.OBJECTS.gone(uid)
    memo["runtime"].timers.gone(uid)


async def _timer_pass(links: KopfLinks, kind: Timer, raw: Mapping[str, Any], memo: Any) -> None:
    """One pass of a due timer, and its status written as kopf writes a timer's."""
    body = kopf.Body(cast(kopf.RawBody, raw))
    patch = kopf.Patch()
    run = poll_pass if kind is Timer.POLL else resync_pass
    try:
        await run(body, memo, patch, links.claims)
    except kopf.PermanentError as error:
        # The body does not parse (a CRD older than the operator): nothing to do until the
        # object changes; its next timer comes as the status it has says.
        _log.warning("%s: %s", body.metadata.name, error)
        return
    if patch:
        try:
            await kopf_links.write_patch(links, body, patch)
        except Exception:
            # The status in memo was never written: forget it, so the next pass compares with
            # the body's status and writes again, rather than seeing no change.
            ObjectState.of(memo).forget_status()
            raise


def register(runtime: Runtime, registry: kopf.OperatorRegistry) -> None:
    """Register every handler, with the timings of ``runtime`` (known only at start-up)."""
    links = KopfLinks()  # what the timers' passes need of kopf, as kopf hands it over
    # Built from the watch before any handler runs (kopf guarantees it), so the first passes
    # after a start already know every object that names the same config.
    kopf.index(*RESOURCE, id="claims", registry=registry)(claims_index)
    gauges = functools.partial(object_gauges, links=links)
    kopf.on.event(*RESOURCE, id="object-gauges", registry=registry)(gauges)
    kopf.on.resume(*RESOURCE, id="reconcile", registry=registry)(reconcile_handler)
    kopf.on.create(*RESOURCE, id="reconcile", registry=registry)(reconcile_handler)
    kopf.on.update(*RESOURCE, id="reconcile", field="spec", registry=registry)(reconcile_handler)
    # Pause, reconcile-now and retry requests: a pass at once (see controls_handler).
    kopf.on.event(*RESOURCE, id="controls", registry=registry)(controls_handler)
    _register_timers(runtime, registry, links)
    kopf.on.delete(*RESOURCE, id="finalize", registry=registry)(finalize_handler)


def _register_timers(runtime: Runtime, registry: kopf.OperatorRegistry, links: KopfLinks) -> None:
    """The polls and drift checks: one scheduler for all objects, started and stopped with
    kopf, not kopf timers (see :mod:`eks_oidc_operator.runtime.pacing.timers` for why)."""
    timings = runtime.timings

    @kopf.on.startup(registry=registry)
    async def start_timers(settings: kopf.OperatorSettings, **_: Any) -> None:
        links.settings = settings
        runtime.timers.start(
            run=functools.partial(_timer_pass, links),
            facts=timer_facts,
            paused=paused,
            timings=timings,
            rng=runtime.rng,
            context=contextvars.copy_context(),  # kopf's: its API credentials and settings
        )

    @kopf.on.cleanup(registry=registry)
    async def stop_timers(**_: Any) -> None:
        await runtime.timers.stop()
