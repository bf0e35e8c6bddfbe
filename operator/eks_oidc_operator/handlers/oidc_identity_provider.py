"""The kopf handlers of ``OidcIdentityProvider``: parse, reconcile in a thread, write status.

- ``reconcile`` (create / update of spec / resume): one idempotent pass; kopf retries it with
  ``TemporaryError(delay=...)`` when the pass asks for a retry (cluster busy or missing, ...).
- ``poll`` (timer, only while an EKS update or config transition is in flight): sleeps by the
  poll schedule, then one pass (usually one DescribeUpdate). Its filter stops it as soon as the
  status says nothing is in flight, so settled objects cost no EKS calls.
- ``resync`` (timer, only while nothing is in flight): a jittered, slow pass that notices drift
  (the config removed or changed outside) and retries stalled failures that may have cleared.
- ``finalize`` (delete): disassociate (unless Retain), poll until EKS says it is gone, release.

A per-object lock keeps the change handler and the timers from running a pass at the same time,
and the status each pass wrote is remembered in the per-object memo, so the next pass never acts
on a status older than the one it wrote itself (the watch event may still be on its way).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError

from eks_oidc_operator import constants, metrics
from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.handlers.runtime import Runtime
from eks_oidc_operator.models import OidcIdentityProvider, OidcIdentityProviderStatus
from eks_oidc_operator.reconcile.reconciler import Context, Outcome, fail, in_flight, reconcile
from eks_oidc_operator.reconcile.timing import poll_delay

RESOURCE = (constants.GROUP, constants.VERSION, constants.PLURAL)


def _parse(body: kopf.Body, memo: kopf.Memo) -> OidcIdentityProvider:
    raw: dict[str, Any] = {
        "metadata": dict(body.get("metadata", {})),
        "spec": dict(body.get("spec", {})),
        "status": dict(body.get("status", {})),
    }
    remembered: OidcIdentityProviderStatus | None = memo.get("status")
    try:
        obj = OidcIdentityProvider.model_validate(raw)
    except ValidationError as error:
        # The CRD's schema and CEL refuse all of this at apply time; reaching here means the
        # CRD is older than the operator. Nothing to do until the object changes.
        raise kopf.PermanentError(f"invalid object: {error}") from error
    if remembered is not None:
        obj = obj.model_copy(update={"status": remembered})
    return obj


async def _pass(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, attempt: int, trigger: str
) -> Outcome:
    runtime: Runtime = memo["runtime"]
    lock: asyncio.Lock = memo.setdefault("lock", asyncio.Lock())
    async with lock:
        started = time.monotonic()
        obj = _parse(body, memo)
        region = obj.spec.region or runtime.default_region or ""
        ctx = Context(
            region=region,
            now=datetime.now(UTC),
            timings=runtime.timings,
            gate=runtime.gate,
            rng=runtime.rng,
            attempt=attempt,
        )
        if not region:
            outcome = fail(
                obj,
                ctx,
                EksError(
                    "NoRegionError",
                    "no region: set spec.region, or EKS_OIDC_DEFAULT_REGION / AWS_REGION",
                    operation="ResolveRegion",
                ),
            )
        else:
            # boto3 blocks (client creation may even ask instance metadata for credentials):
            # never on kopf's event loop.
            outcome = await asyncio.to_thread(_reconcile_in_thread, runtime, obj, ctx)
        patch.status.update(outcome.status.model_dump(mode="json", by_alias=True))
        memo["status"] = outcome.status
        for event in outcome.events:
            kopf.event(body, type=event.type, reason=event.reason, message=event.message)
            metrics.record_event(event.type, event.reason)
        metrics.record_pass(trigger, outcome.status.phase, time.monotonic() - started)
        return outcome


def _reconcile_in_thread(runtime: Runtime, obj: OidcIdentityProvider, ctx: Context) -> Outcome:
    try:
        eks = runtime.clients.get(ctx.region, obj.spec.role_arn)
    except EksError as error:
        return fail(obj, ctx, error)
    return reconcile(obj, eks, ctx)


def _retry_signal(outcome: Outcome) -> None:
    if outcome.requeue_after is not None:
        ready = next((c for c in outcome.status.conditions if c.type == "Ready"), None)
        why = f"{ready.reason}: {ready.message}" if ready else "retry"
        raise kopf.TemporaryError(why, delay=outcome.requeue_after)


def _status_in_flight(status: kopf.Status, memo: kopf.Memo, **_: Any) -> bool:
    remembered: OidcIdentityProviderStatus | None = memo.get("status")
    if remembered is None:
        try:
            remembered = OidcIdentityProviderStatus.model_validate(dict(status))
        except ValidationError:
            return False
    return in_flight(remembered)


def _settled(status: kopf.Status, memo: kopf.Memo, meta: kopf.Meta, **kwargs: Any) -> bool:
    if meta.get("deletionTimestamp"):
        return False
    return not _status_in_flight(status, memo, **kwargs)


def register(runtime: Runtime, registry: kopf.OperatorRegistry) -> None:
    """Register every handler, with the timings of ``runtime`` (known only at start-up)."""
    timings = runtime.timings

    @kopf.on.resume(*RESOURCE, id="reconcile", registry=registry)
    @kopf.on.create(*RESOURCE, id="reconcile", registry=registry)
    @kopf.on.update(*RESOURCE, id="reconcile", field="spec", registry=registry)
    async def reconcile_oidc_identity_provider(
        body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, retry: int, **_: Any
    ) -> None:
        _retry_signal(await _pass(body, memo, patch, retry, "reconcile"))

    @kopf.timer(*RESOURCE, id="poll", interval=0.5, when=_status_in_flight, registry=registry)
    async def poll_oidc_identity_provider(
        body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, **kwargs: Any
    ) -> None:
        stopped: kopf.DaemonStopped = kwargs["stopped"]
        remembered: OidcIdentityProviderStatus | None = memo.get("status")
        update_id = remembered.update.id if remembered and remembered.update else ""
        polls: dict[str, int] = memo.setdefault("polls", {})
        done = polls.get(update_id, 0)
        await stopped.wait(poll_delay(done, timings))
        if stopped:
            return
        polls.clear()
        polls[update_id] = done + 1
        outcome = await _pass(body, memo, patch, done, "poll")
        if outcome.requeue_after is not None and not outcome.in_flight:
            return  # not in flight any more: the change handler or resync timer takes over

    @kopf.timer(
        *RESOURCE,
        id="resync",
        interval=timings.resync,
        initial_delay=lambda **_: runtime.rng.uniform(0, timings.resync),
        when=_settled,
        registry=registry,
    )
    async def resync_oidc_identity_provider(
        body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, **_: Any
    ) -> None:
        await _pass(body, memo, patch, 0, "resync")

    @kopf.on.delete(*RESOURCE, id="finalize", registry=registry)
    async def finalize_oidc_identity_provider(
        body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, retry: int, **_: Any
    ) -> None:
        outcome = await _pass(body, memo, patch, retry, "finalize")
        if outcome.release:
            return
        if outcome.requeue_after is None:
            outcome.requeue_after = timings.poll_max
        _retry_signal(outcome)
