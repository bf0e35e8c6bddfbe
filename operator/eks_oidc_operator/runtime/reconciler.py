"""One pass: gather, plan (pure), execute the plan's calls, return the plan to write.

This is the orchestrator: with gathering, the only code that calls EKS, and it decides nothing:
every answer that could change the plan (an EKS error, the update a call started, a lost turn
at the cluster gate) goes back through the pure planner. It blocks: :mod:`~.passes` runs it in
a worker thread, never on kopf's event loop.
"""

from __future__ import annotations

from collections.abc import Callable

from eks_oidc_operator.models import EksUpdate, OidcIdentityProvider
from eks_oidc_operator.models.eks import EksError
from eks_oidc_operator.reconcile import planner
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.guards.ownership import owner_of
from eks_oidc_operator.reconcile.observation import Checks, Observation, new_to_eks
from eks_oidc_operator.reconcile.plan import Associate, Call, Disassociate, Plan, Tag, Untag
from eks_oidc_operator.runtime.cluster_facts import CachedClusters
from eks_oidc_operator.runtime.gather import gather
from eks_oidc_operator.runtime.pacing.gate import ClusterGate, Seat, Wake
from eks_oidc_operator.runtime.port import EksPort

Connect = Callable[[], EksPort]
"""Makes (or returns the cached) EKS client for the pass's region and role; may raise EksError."""


def reconcile(
    obj: OidcIdentityProvider,
    ctx: Context,
    connect: Connect,
    gate: ClusterGate,
    checks: Checks | None = None,
    wake: Wake = lambda: None,
) -> Plan:
    """One pass for ``obj``: create/update/resume, timer polls and deletion all come here.

    ``checks`` carries what the caller found out first (the tenancy policy's answer, an older
    object naming the same config, the issuer pre-flight); a pass they decide makes no AWS
    call at all. ``wake`` is called when a queued object's turn at the cluster gate comes.
    """
    seat = gate.seat((ctx.region, obj.spec.cluster_name), owner_key(obj))
    plan = _pass(obj, ctx, connect, seat, checks or Checks())
    if plan.verdict.paused or obj.observe_only:
        # Neither waits for nor keeps a turn: an observing object starts nothing, and a paused
        # one must not keep its cluster's queue waiting for as long as the pause lasts (an
        # update of its own still running meets the others as EKS's 409, which they retry).
        seat.leave()
        seat.release()
        return plan
    if plan.verdict.queued:
        meta = obj.metadata
        seat.queue((meta.creation_timestamp or "", f"{meta.namespace}/{meta.name}"), wake)
        return plan
    seat.leave()
    if plan.in_flight and not plan.release:
        # Held by whoever has an update in flight: after a restart the gate starts empty, and
        # the first pass that finds our update still running takes it back.
        seat.take()
    if plan.release or not plan.in_flight:
        # The gate is held from a mutating call until its update ends, or until the object is
        # gone (a released object never passes again, so it could not free the gate later).
        # It only saves calls (EKS's 409 guards correctness): releasing it on any doubt is safe.
        seat.release()
    return plan


def owner_key(obj: OidcIdentityProvider) -> str:
    """Who ``obj`` is at the cluster gate."""
    return obj.metadata.uid or f"{obj.metadata.namespace}/{obj.metadata.name}"


def _pass(
    obj: OidcIdentityProvider, ctx: Context, connect: Connect, seat: Seat, checks: Checks
) -> Plan:
    identity = owner_of(obj, ctx.management_cluster)
    # An object new to EKS can only go on to associate: it takes the cluster's turn before
    # reading anything, so in a burst only one object per cluster reads and the rest queue
    # without a call. (A pass that then starts nothing frees the turn at its end.)
    holder = seat.take() if _may_associate(obj) else None
    base = Observation(obj, identity=identity, checks=checks, gate_holder=holder or seat.holder())
    early = planner.plan_before_eks(base, ctx)
    if early is not None:
        if not early.verdict.queued:
            # Decided without AWS: nothing of ours is in flight through this pass.
            seat.release()
        return early
    try:
        eks = _client(ctx, connect)
    except EksError as error:
        return planner.plan(base.but(error=error), ctx)
    observation = gather(base, eks)
    return _execute(planner.plan(observation, ctx), observation, ctx, eks, seat)


def _may_associate(obj: OidcIdentityProvider) -> bool:
    """Whether the pass's likely outcome is an Associate: the object is new to EKS and managed
    (not being deleted, observed only, or paused)."""
    managed = not obj.metadata.deletion_timestamp and not obj.observe_only
    return managed and obj.pause_value is None and new_to_eks(obj)


def _client(ctx: Context, connect: Connect) -> EksPort:
    if not ctx.region:
        raise EksError(
            "NoRegionError",
            "no region: set spec.region, or EKS_OIDC_DEFAULT_REGION / AWS_REGION",
            operation="ResolveRegion",
        )
    return connect()


def _execute(plan: Plan, obs: Observation, ctx: Context, eks: EksPort, seat: Seat) -> Plan:
    """Make the plan's calls in order; an answer that changes the plan goes back to the planner."""
    try:
        for call in plan.calls:
            if isinstance(call, Associate | Disassociate):
                holder = seat.take()
                if holder is not None:  # another object took the cluster since we looked
                    return planner.plan(obs.but(gate_holder=holder), ctx)
                try:
                    update = _start(eks, call)
                except EksError as error:
                    if obs.config_unread:
                        return _looked_again(obs, ctx, eks, seat, error)
                    return planner.plan(_refused(obs, eks, error), ctx)
                return planner.started(obs, ctx, plan, update)
            _retag(eks, call)
    except EksError as error:
        return planner.plan(obs.but(error=error), ctx)
    return plan


def _looked_again(
    obs: Observation, ctx: Context, eks: EksPort, seat: Seat, error: EksError
) -> Plan:
    """EKS refused the Associate of an object whose config the pass presumed absent: look at
    it in full, as a pass that did not presume would have before associating.

    A config of that name there (our own, after a crash lost its status; or one made outside)
    makes the refusal moot, and the plan for the config as found is made and carried out; with
    none there the refusal is read as any other Associate's.
    """
    full = gather(obs.but(config_unread=False), eks, presume=False)
    if full.error is not None:
        return planner.plan(full, ctx)
    if full.config is None:
        return planner.plan(_refused(full, eks, error), ctx)
    return _execute(planner.plan(full, ctx), full, ctx, eks, seat)


def _refused(obs: Observation, eks: EksPort, error: EksError) -> Observation:
    """The observation an Associate or Disassociate that EKS refused leaves.

    The rules tell a limit from a cluster being upgraded by the cluster's status, so facts this
    pass took from the shared cache (which the refusal made it forget) are read again.
    """
    cluster = obs.cluster
    if cluster is None or not isinstance(eks, CachedClusters):
        return obs.but(error=error)
    if not eks.answered_from_cache(cluster.name):
        return obs.but(error=error)
    try:
        return obs.but(error=error, cluster=eks.describe_cluster(cluster.name))
    except EksError:
        return obs.but(error=error)


def _start(eks: EksPort, call: Associate | Disassociate) -> EksUpdate:
    if isinstance(call, Associate):
        return eks.associate(call.cluster, call.name, call.oidc, call.tags, call.token)
    return eks.disassociate(call.cluster, call.name, call.token)


def _retag(eks: EksPort, call: Call) -> None:
    if isinstance(call, Tag):
        eks.tag(call.arn, call.tags)
    elif isinstance(call, Untag):
        eks.untag(call.arn, call.keys)
