"""One pass of one object, as the handlers run it: its context, its inputs, its EKS port, then
the reconciler in a worker thread.

The handlers parse the body and write the plan; everything between is here, so a handler is
parse, :func:`run`, write.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from eks_oidc_operator import constants
from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.reconcile.context import Context, pinned, pinned_region
from eks_oidc_operator.reconcile.guards.claims import settle_wait
from eks_oidc_operator.reconcile.guards.tenancy import Access
from eks_oidc_operator.reconcile.plan import Plan
from eks_oidc_operator.runtime import inputs
from eks_oidc_operator.runtime.pacing.aws_rate import RateKey, Ticket, rate_key
from eks_oidc_operator.runtime.port import EksPort
from eks_oidc_operator.runtime.reconciler import reconcile
from eks_oidc_operator.runtime.services import Runtime


async def run(
    obj: OidcIdentityProvider,
    runtime: Runtime,
    claims: inputs.Claims | None,
    *,
    retries: int,
    polls: int,
) -> Plan:
    """The plan of one pass of ``obj``: inputs collected on the event loop, the reconciler (and
    every EKS call) in a worker thread."""
    ctx = await context(obj, runtime, retries=retries, polls=polls)
    access, checks = await inputs.collect(obj, ctx.region, sources(runtime), claims)
    key = rate_key(obj.spec.role_arn, ctx.region)
    # The pass's turn at its account's EKS call rate, waited for here, on the event loop.
    ticket = await runtime.pacer.admit(key)
    connect = connector(runtime, obj, ctx.region, access, ticket)
    uid = str(obj.metadata.uid or "")

    def wake() -> None:  # called by the gate, from the pass's worker thread
        runtime.timers.wake(uid)

    try:
        plan = await asyncio.to_thread(reconcile, obj, ctx, connect, runtime.gate, checks, wake)
    finally:
        ticket.settle()
    runtime.durations.observe(key, obj.status, plan.status, datetime.now(UTC))
    return plan


def rate_key_of(body: Mapping[str, Any], default_region: str | None) -> RateKey:
    """The call-rate bucket of an object's passes, read from its body as it is (not parsed):
    the account of its role, and its region as :func:`pinned_region` resolves it."""
    spec, status = body.get("spec") or {}, body.get("status") or {}
    return rate_key(
        spec.get("roleArn"), pinned(spec.get("region"), status.get("region"), default_region)
    )


async def context(
    obj: OidcIdentityProvider, runtime: Runtime, *, retries: int, polls: int
) -> Context:
    """The pass's context. A new object's first Associate waits until objects created in the
    same second are known (:func:`~eks_oidc_operator.reconcile.guards.claims.settle_wait`):
    here, before the pass, so the wait writes nothing."""
    region = pinned_region(obj, runtime.default_region)
    ctx = Context(
        region=region,
        now=datetime.now(UTC),
        timings=runtime.timings,
        rng=runtime.rng,
        retries=retries,
        polls=polls,
        management_cluster=runtime.settings.management_cluster,
        windows=runtime.durations.windows(rate_key(obj.spec.role_arn, region)),
    )
    wait = settle_wait(obj, ctx.now, ctx.timings)
    if wait > 0:
        await asyncio.sleep(wait)
        ctx = dataclasses.replace(ctx, now=datetime.now(UTC))
    return ctx


def sources(runtime: Runtime) -> inputs.Sources:
    """Where :func:`~eks_oidc_operator.runtime.inputs.collect` reads a pass's inputs."""
    return inputs.Sources(
        policies=runtime.tenancy,
        issuers=runtime.issuers,
        crd=runtime.crd,
        default_issuer_mode=runtime.settings.issuer_check,
    )


def session_name(obj: OidcIdentityProvider) -> str | None:
    """The role session's name: CloudTrail then names the object behind every call made with
    its role. Objects without a role share the operator's one client, so they get none."""
    # boto3 is imported with the first pass that needs an EKS client, not at start-up:
    # an operator with no objects does not carry it (about 8 MiB).
    from eks_oidc_operator.eks.factory import session_name_for

    if not obj.spec.role_arn:
        return None
    return session_name_for(obj.metadata.namespace or "", obj.metadata.name)


def connector(
    runtime: Runtime, obj: OidcIdentityProvider, region: str, access: Access, ticket: Ticket
) -> Callable[[], EksPort]:
    """How the pass gets its EKS port: the (region, role) client, paced at its account's rate,
    metered against the namespace's budget, guarded on a deletion, with cluster facts shared.
    Made lazily: a pass the first rules end makes no client at all."""

    # boto3 blocks (client creation may even ask instance metadata for credentials):
    # the whole pass runs in a worker thread, never on kopf's event loop.
    def client() -> EksPort:
        # The session name is made here, in the worker thread, when a client is first needed:
        # it imports boto3, which a pass the first rules end never needs.
        return runtime.clients.get(
            region,
            obj.spec.role_arn,
            external_id=access.external_id,
            session_name=session_name(obj),
        )

    scope = (region, obj.spec.role_arn or "", access.external_id or "")
    namespace = obj.metadata.namespace or ""
    # A deletion's disassociation asks the mass-deletion guard first, unless confirmed.
    guarded = (
        obj.metadata.deletion_timestamp is not None
        and obj.metadata.annotations.get(constants.DELETION_CONFIRMED_ANNOTATION) != "true"
    )

    def connect() -> EksPort:
        # Metered inside the cache: a DescribeCluster answered from it costs no token.
        port = runtime.budget.metered(ticket.paced(client()), namespace, ticket.key)
        if guarded:
            port = runtime.deletions.guarded(port)
        return runtime.clusters.cached(port, scope)

    return connect
