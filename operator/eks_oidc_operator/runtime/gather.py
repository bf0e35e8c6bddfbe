"""Gathering: the EKS reads of one pass, into one :class:`Observation`. I/O, no decisions.

EKS calls are kept few on purpose. While a tracked update is in flight one poll is one
DescribeUpdate; the config is described only when the update has ended (or nothing is in
flight), and the cluster only when the config is missing. A new object's config is not
described at all: it is presumed absent, and the pass associates after reading the cluster
(usually a shared, cached fact); see :func:`presumed_absent`. An EKS error ends gathering and
is part of the observation: what it means is the rules' business.

A make-before-break replacement adds reads only while it runs: the old config (recorded in
``status.previousConfig``) is described next to the new one, and when ``spec.oidc`` first
differs from an ACTIVE config the derived name is described (finding a config an earlier pass
associated before a crash) and, when nothing is there yet, the cluster and its config list (can
EKS hold both?). Which config the pass works on is chosen from those answers by pure code
(:mod:`~.replacement`).
"""

from __future__ import annotations

from eks_oidc_operator import constants
from eks_oidc_operator.models import ConfigStatus, EksUpdate, OidcIdentityProvider
from eks_oidc_operator.models.eks import EksError, ObservedConfig
from eks_oidc_operator.reconcile.limits import provider_limit
from eks_oidc_operator.reconcile.observation import FINISHED_BADLY, Observation, new_to_eks
from eks_oidc_operator.reconcile.replacement import successor as replacement
from eks_oidc_operator.runtime.port import EksPort

IN_PROGRESS = constants.UPDATE_IN_PROGRESS

PREFLIGHT_UP_TO = 1
"""Count the cluster's configs before associating only where it may have at most this many."""


def gather(base: Observation, eks: EksPort, *, presume: bool = True) -> Observation:
    """``base`` (the object and the gate's answer) completed with what EKS says.

    With ``presume``, an object new to EKS (:func:`presumed_absent`) has its config presumed
    absent, not described; without it (after EKS refused that object's Associate) every object
    is looked at in full.
    """
    try:
        if base.obj.observe_only:
            return _read_only(base, eks)
        if presume and presumed_absent(base.obj):
            return _before_associating(base.but(config_unread=True), eks)
        return _observe(base, eks)
    except EksError as error:
        return base.but(error=error)


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


def _observe(base: Observation, eks: EksPort) -> Observation:
    obj = base.obj
    status = obj.status
    primary = status.identity_provider_config_name or obj.config_name
    tracked = status.update
    update: EksUpdate | None = None
    if tracked is not None and tracked.status == IN_PROGRESS:
        update = eks.describe_update(obj.spec.cluster_name, tracked.id)
        if update is not None and update.status == IN_PROGRESS:
            return base.but(name=primary, update=update)
    elif tracked is not None and tracked.status:
        update = tracked  # already final: no need to ask EKS again
    obs = _look(base.but(name=primary, update=update), eks)
    if obs.owned_by_another is not None:
        # Another object's config: its updates are not ours to follow, whatever their name.
        return obs
    recorded = status.previous_config
    if recorded is not None and recorded.name != primary:
        obs = _with_previous(obs, eks, recorded.name)
    if obs.previous is None and _wants_successor(obs):
        obs = _with_successor(obs, eks)
    elif obs.config is None and obs.previous is None and _successor_may_exist(obs):
        obs = _found_successor(obs, eks)
    if obs.deleting:
        obs = _next_to_delete(obs, eks)
    if obs.config is None and obs.cluster is None and not obs.cluster_missing:
        return _before_associating(obs, eks)
    return obs


def _read_only(base: Observation, eks: EksPort) -> Observation:
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
        update = eks.describe_update(cluster, tracked.id)
    config = eks.describe_config(cluster, name)
    seen = base.but(name=name, config=config, update=update)
    if config is not None:
        return seen
    found = eks.describe_cluster(cluster)
    return seen.but(cluster=found, cluster_missing=found is None)


def _look(obs: Observation, eks: EksPort) -> Observation:
    """``obs`` with the config of ``obs.config_name`` described, and its update found when
    status does not know it."""
    obj, name, update = obs.obj, obs.config_name, obs.update
    cluster = obj.spec.cluster_name
    config = eks.describe_config(cluster, name)
    if config is None:
        return obs.but(config=None)
    seen = obs.but(config=config)
    in_transition = config.status in (ConfigStatus.CREATING, ConfigStatus.DELETING)
    unknown = update is None and obs.recorded_arn != config.arn
    if seen.owned_by_another is not None:
        return seen
    kind = (
        constants.UPDATE_DISASSOCIATE
        if config.status == ConfigStatus.DELETING
        else constants.UPDATE_ASSOCIATE
    )
    failed_ours = update is not None and update.type == kind and update.status in FINISHED_BADLY
    if in_transition and failed_ours:
        # Our own update of that kind failed and EKS has not collected the config yet: there is
        # nothing to find, and looking would cost a ListUpdates at every pass until it does.
        return seen
    if (in_transition and (update is None or update.status != IN_PROGRESS)) or unknown:
        # A config whose update we do not know: after a crash between the Associate call and
        # the status write (whether or not EKS has finished since), or one started outside.
        # Find it, never repeat it. Once the ARN is recorded this lookup does not recur.
        recovered = eks.find_config_update(cluster, name, kind)
        if recovered is not None:
            return seen.but(update=recovered)
    return seen


def _ours(obs: Observation, name: str, config: ObservedConfig | None) -> ObservedConfig | None:
    """``config`` if it is this object's (owner tag, or the ARN status records for ``name``)."""
    if config is None:
        return None
    view = obs.but(name=name, config=config)
    return config if view.mine_by_tag or (view.mine_by_tag is None and view.created_by_us) else None


def _wants_successor(obs: Observation) -> bool:
    """spec.oidc differs from our ACTIVE config and the policy makes before it breaks; or from
    our config DELETING with no replacement recorded (a crash after the old config's
    disassociation, with status lost: the new config may be there already)."""
    config = obs.config
    return (
        config is not None
        and config.status in (ConfigStatus.ACTIVE, ConfigStatus.DELETING)
        and obs.created_by_us
        and bool(obs.differences)
        and replacement.makes_before_breaking(obs.obj)
    )


def _successor_may_exist(obs: Observation) -> bool:
    """The config of that name is missing, but the spec has changed since the object was made
    and its policy makes before it breaks: the new settings' config may be on the cluster with
    status not recording it (lost after a crash that followed the old config's removal)."""
    return obs.obj.metadata.generation > 1 and replacement.makes_before_breaking(obs.obj)


def _found_successor(obs: Observation, eks: EksPort) -> Observation:
    """``obs`` on the new settings' derived name when a config of ours is there."""
    obj = obs.obj
    name = replacement.successor_name(obj.config_name, obj.spec.oidc)
    if name == obs.config_name:
        return obs
    found = _look(obs.but(name=name), eks)
    return found if _ours(obs, name, found.config) is not None else obs


def _with_previous(obs: Observation, eks: EksPort, name: str) -> Observation:
    """A replacement is under way: describe the old config, and choose which config works.

    The spec may have moved on since the new config was started: back to the old settings (then
    the old config is the one to keep, and the new one goes), or on to third settings while the
    new config is missing (then the config to make is the one of the newest settings).
    """
    obj = obs.obj
    previous = _ours(obs, name, eks.describe_config(obj.spec.cluster_name, name))
    if previous is None:
        return obs
    target = obs.config
    if replacement.matches(obj, previous) and (
        target is None or not replacement.matches(obj, target)
    ):
        return obs.but(name=name, config=previous, previous=target, update=obs.update)
    fallback = obj.status.replacement_fallback
    if target is None and fallback is not None and fallback.generation == obj.metadata.generation:
        # EKS refused the new config next to the old one: this generation deletes first.
        return obs.but(name=name, config=previous, delete_first=fallback.reason)
    if target is None:
        newest = replacement.successor_name(obj.config_name, obj.spec.oidc)
        if newest != obs.config_name:
            return _look(obs.but(name=newest), eks).but(previous=previous)
    return obs.but(previous=previous)


def _with_successor(obs: Observation, eks: EksPort) -> Observation:
    """spec.oidc differs from our ACTIVE config: the new config under its derived name, if an
    earlier pass made it; else whether EKS can hold it next to the old one."""
    obj, old = obs.obj, obs.config
    assert old is not None  # _wants_successor saw it
    name = replacement.successor_name(obj.config_name, obj.spec.oidc)
    if name == obs.config_name:
        return obs
    successor = _look(obs.but(name=name), eks)
    if _ours(obs, name, successor.config) is not None:
        return successor.but(previous=old)
    if successor.config is not None or obs.deleting or old.status != ConfigStatus.ACTIVE:
        return obs  # a stranger's config under the derived name, or nothing left to make

    return _room_for(obs, successor, eks)


def _room_for(obs: Observation, successor: Observation, eks: EksPort) -> Observation:
    """Whether EKS can hold the new config (``successor``, not made yet) next to the old one
    (``obs.config``): the observation to go on with, the successor's or the old config's with
    the reason a replacement must delete first."""
    obj, old = obs.obj, obs.config
    assert old is not None
    fallback = obj.status.replacement_fallback
    if fallback is not None and fallback.generation == obj.metadata.generation:
        return obs.but(delete_first=fallback.reason)
    cluster = eks.describe_cluster(obj.spec.cluster_name)
    if cluster is None:
        return obs  # gone between two calls: the next pass sees it missing
    names = tuple(eks.list_configs(cluster.name))
    for other in names:
        # A derived config of ours that status does not know (a crash right after its
        # association, then another spec change): finish and retire it, never add a third.
        if other not in (obs.config_name, successor.config_name) and replacement.is_successor_of(
            other, obj.config_name
        ):
            found = _look(obs.but(name=other), eks)
            if _ours(obs, other, found.config) is not None:
                return found.but(previous=old, cluster=cluster)
    reason = replacement.delete_first_reason(obj, old, cluster, names)
    if reason is not None:
        return obs.but(delete_first=reason, cluster=cluster)
    neighbours = tuple(n for n in names if n != successor.config_name)
    return successor.but(config=None, previous=old, cluster=cluster, neighbours=neighbours)


def _next_to_delete(obs: Observation, eks: EksPort) -> Observation:
    """In deletion every config the object owns goes, one at a time: the one worked on, then
    the old one of a replacement, then any derived config of ours the cluster still has (one a
    crash kept status from recording). The cluster is asked first: a cluster that is gone has
    nothing left to list."""
    if obs.config is not None:
        return obs
    if obs.previous is not None:
        return obs.but(name=obs.previous.name, config=obs.previous, previous=None)
    obs = _before_associating(obs, eks)
    if obs.cluster is None:
        return obs
    obj = obs.obj
    for name in eks.list_configs(obj.spec.cluster_name):
        if name != obs.config_name and replacement.is_successor_of(name, obj.config_name):
            leftover = _ours(obs, name, eks.describe_config(obj.spec.cluster_name, name))
            if leftover is not None:
                return obs.but(name=name, config=leftover)
    return obs


def _before_associating(base: Observation, eks: EksPort) -> Observation:
    """No config of that name: is there a cluster, and room on it for one more provider?

    The config list is read only here, right before the one call it saves (an Associate that
    EKS would refuse for the provider limit), and only on clusters whose limit is one
    provider: there a second config is a common mistake. With a limit of ten, running into it
    is rare, and EKS's own refusal (one Associate, then held) is cheaper than a list before
    every association.
    """
    cluster = eks.describe_cluster(base.obj.spec.cluster_name)
    if cluster is None:
        return base.but(cluster_missing=True)
    limit = provider_limit(cluster.version)
    if base.deleting or limit is None or limit > PREFLIGHT_UP_TO:
        return base.but(cluster=cluster)
    names = eks.list_configs(cluster.name)
    return base.but(cluster=cluster, neighbours=tuple(n for n in names if n != base.config_name))
