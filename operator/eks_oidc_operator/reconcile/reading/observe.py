"""Pure: the reads of one pass, in order, and the observation they make.

EKS calls are kept few on purpose. While a tracked update is in flight one poll is one
DescribeUpdate; the config is described only when the update has ended (or nothing is in
flight), and the cluster only when the config is missing. A new object's config is not
described at all: it is presumed absent, and the pass associates after reading the cluster
(usually a shared, cached fact); see :func:`presumed_absent`. An EKS error ends gathering and
is part of the observation (:mod:`eks_oidc_operator.runtime.gather` puts it there): what it
means is the rules' business.

A make-before-break replacement adds reads only while it runs; which, and which config the pass
then works on, is :mod:`eks_oidc_operator.reconcile.replacement.reads`.
"""

from __future__ import annotations

from eks_oidc_operator.models import EksUpdate, OidcIdentityProvider
from eks_oidc_operator.reconcile.observation import Observation, new_to_eks
from eks_oidc_operator.reconcile.reading import reads
from eks_oidc_operator.reconcile.reading.looks import IN_PROGRESS, before_associating, look, ours
from eks_oidc_operator.reconcile.reading.reads import Reading
from eks_oidc_operator.reconcile.replacement import reads as replacement
from eks_oidc_operator.reconcile.replacement import successor


def observe(base: Observation, *, presume: bool = True) -> Reading[Observation]:
    """``base`` (the object and the gate's answer) completed with what EKS says.

    With ``presume``, an object new to EKS (:func:`presumed_absent`) has its config presumed
    absent, not described; without it (after EKS refused that object's Associate) every object
    is looked at in full.
    """
    if base.obj.observe_only:
        return (yield from _read_only(base))
    if presume and presumed_absent(base.obj):
        return (yield from before_associating(base.but(config_unread=True)))
    return (yield from _full(base))


def presumed_absent(obj: OidcIdentityProvider) -> bool:
    """Whether a pass may skip describing the config and go straight to associating.

    Only an object of which status records nothing in EKS (no config, no update, no old config)
    at its first generation, not being deleted: in a burst, every new object. Its config is
    missing unless a crash lost the status of an Associate already made, or a config of that
    name was made outside. Either way the Associate is safe, and not a second association: the
    same status gives the same ``clientRequestToken``, which EKS replays, and EKS refuses a
    name that is taken. The refusal is then read as a full pass would have read the cluster
    before it (the reconciler looks again). This saves one DescribeIdentityProviderConfig
    (always a 404) per new object; a generation past the first may have a successor config
    to find, so it is looked at in full.
    """
    managed = not obj.metadata.deletion_timestamp and not obj.observe_only
    return managed and obj.metadata.generation <= 1 and new_to_eks(obj)


def _full(base: Observation) -> Reading[Observation]:
    """The full look: the tracked update, the config, a replacement's other config, in
    deletion every config the object owns, and the cluster when no config is left."""
    status = base.obj.status
    primary = status.identity_provider_config_name or base.obj.config_name
    update, running = yield from _tracked_update(base)
    if running:
        return base.but(name=primary, update=update)
    obs = yield from look(base.but(name=primary, update=update))
    if obs.owned_by_another is not None:
        # Another object's config: its updates are not ours to follow, whatever their name.
        return obs
    obs = yield from replacement.around(obs)
    if obs.deleting:
        obs = yield from _next_to_delete(obs)
    if obs.config is None and obs.cluster is None and not obs.cluster_missing:
        return (yield from before_associating(obs))
    return obs


def _tracked_update(base: Observation) -> Reading[tuple[EksUpdate | None, bool]]:
    """The update status tracks, asked of EKS only while it was in progress (a final one is
    known already), and whether it still runs."""
    tracked = base.obj.status.update
    if tracked is None or not tracked.status:
        return None, False
    if tracked.status != IN_PROGRESS:
        return tracked, False
    update = yield from reads.describe_update(base.obj.spec.cluster_name, tracked.id)
    return update, update is not None and update.status == IN_PROGRESS


def _read_only(base: Observation) -> Reading[Observation]:
    """What an observing object reads: the config of its name, the update status records while
    it runs (one this object started before it switched to Observe), and the cluster only when
    the config is missing (a cached fact, shared).

    No update is ever looked for (ListUpdates): EKS has no lookup by config, only a scan of the
    cluster's whole history, and an update this object did not start must never be recorded as
    its own (a later switch to Full would take it as proof that the config is ours).
    """
    obj = base.obj
    status = obj.status
    cluster = obj.spec.cluster_name
    name = status.identity_provider_config_name or obj.config_name
    tracked = status.update
    update = None
    if tracked is not None and tracked.status == IN_PROGRESS:
        update = yield from reads.describe_update(cluster, tracked.id)
    config = yield from reads.describe_config(cluster, name)
    seen = base.but(name=name, config=config, update=update)
    if config is not None:
        return seen
    found = yield from reads.describe_cluster(cluster)
    return seen.but(cluster=found, cluster_missing=found is None)


def _next_to_delete(obs: Observation) -> Reading[Observation]:
    """In deletion every config the object owns goes, one at a time: the one worked on, then
    the old one of a replacement, then any derived config of ours the cluster still has (one a
    crash kept status from recording). The cluster is asked first: a cluster that is gone has
    nothing left to list."""
    if obs.config is not None:
        return obs
    if obs.previous is not None:
        return obs.but(name=obs.previous.name, config=obs.previous, previous=None)
    obs = yield from before_associating(obs)
    if obs.cluster is None:
        return obs
    cluster, base = obs.obj.spec.cluster_name, obs.obj.config_name
    for name in (yield from reads.list_configs(cluster)):
        if name != obs.config_name and successor.is_successor_of(name, base):
            leftover = ours(obs, name, (yield from reads.describe_config(cluster, name)))
            if leftover is not None:
                return obs.but(name=name, config=leftover)
    return obs
