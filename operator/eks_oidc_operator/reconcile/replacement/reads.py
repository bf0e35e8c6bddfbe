"""Pure: the reads a make-before-break replacement adds to a pass, and which config works.

While a replacement runs, the old config (recorded in ``status.previousConfig``) is described
next to the new one; when ``spec.oidc`` first differs from an ACTIVE config the derived name is
described (finding a config an earlier pass associated before a crash) and, when nothing is
there yet, the cluster and its config list (can EKS hold both?). From the answers this module
picks the config the pass works on (``Observation.config``) and the one a replacement retires
(``Observation.previous``); the rules of :mod:`eks_oidc_operator.reconcile.rules.replace` then
decide what to do with them.
"""

from __future__ import annotations

from eks_oidc_operator.models import ConfigStatus
from eks_oidc_operator.models.eks import ObservedCluster, ObservedConfig
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.reading import reads
from eks_oidc_operator.reconcile.reading.looks import look, ours
from eks_oidc_operator.reconcile.reading.reads import Reading
from eks_oidc_operator.reconcile.replacement.successor import (
    delete_first_reason,
    is_successor_of,
    makes_before_breaking,
    matches,
    successor_name,
)


def around(obs: Observation) -> Reading[Observation]:
    """``obs`` (the config of the recorded name, looked at) with a replacement's other config:
    the old one status records, the new settings' one an earlier pass may have made, or
    whether EKS has room for it."""
    recorded = obs.obj.status.previous_config
    if recorded is not None and recorded.name != obs.config_name:
        obs = yield from _with_previous(obs, recorded.name)
    if obs.previous is None and wants_successor(obs):
        return (yield from _with_successor(obs))
    if obs.config is None and obs.previous is None and successor_may_exist(obs):
        return (yield from _found_successor(obs))
    return obs


def wants_successor(obs: Observation) -> bool:
    """spec.oidc differs from our ACTIVE config and the policy makes before it breaks; or from
    our config DELETING with no replacement recorded (a crash after the old config's
    disassociation, with status lost: the new config may be there already)."""
    config = obs.config
    return (
        config is not None
        and config.status in (ConfigStatus.ACTIVE, ConfigStatus.DELETING)
        and obs.created_by_us
        and bool(obs.differences)
        and makes_before_breaking(obs.obj)
    )


def successor_may_exist(obs: Observation) -> bool:
    """The config of that name is missing, but the spec has changed since the object was made
    and its policy makes before it breaks: the new settings' config may be on the cluster with
    status not recording it (lost after a crash that followed the old config's removal)."""
    return obs.obj.metadata.generation > 1 and makes_before_breaking(obs.obj)


def _found_successor(obs: Observation) -> Reading[Observation]:
    """``obs`` on the new settings' derived name when a config of ours is there."""
    obj = obs.obj
    name = successor_name(obj.config_name, obj.spec.oidc)
    if name == obs.config_name:
        return obs
    found = yield from look(obs.but(name=name))
    return found if ours(obs, name, found.config) is not None else obs


def _with_previous(obs: Observation, name: str) -> Reading[Observation]:
    """A replacement is under way: describe the old config, and choose which config works.

    The spec may have moved on since the new config was started: back to the old settings (then
    the old config is the one to keep, and the new one goes), or on to third settings while the
    new config is missing (then the config to make is the one of the newest settings).
    """
    obj = obs.obj
    previous = ours(obs, name, (yield from reads.describe_config(obj.spec.cluster_name, name)))
    if previous is None:
        return obs
    target = obs.config
    if matches(obj, previous) and (target is None or not matches(obj, target)):
        return obs.but(name=name, config=previous, previous=target, update=obs.update)
    if target is not None:
        return obs.but(previous=previous)
    fallback = obj.status.replacement_fallback
    if fallback is not None and fallback.generation == obj.metadata.generation:
        # EKS refused the new config next to the old one: this generation deletes first.
        return obs.but(name=name, config=previous, delete_first=fallback.reason)
    newest = successor_name(obj.config_name, obj.spec.oidc)
    if newest != obs.config_name:
        return (yield from look(obs.but(name=newest))).but(previous=previous)
    return obs.but(previous=previous)


def _with_successor(obs: Observation) -> Reading[Observation]:
    """spec.oidc differs from our ACTIVE config: the new config under its derived name, if an
    earlier pass made it; else whether EKS can hold it next to the old one."""
    obj, old = obs.obj, obs.config
    assert old is not None  # wants_successor saw it
    name = successor_name(obj.config_name, obj.spec.oidc)
    if name == obs.config_name:
        return obs
    found = yield from look(obs.but(name=name))
    if ours(obs, name, found.config) is not None:
        return found.but(previous=old)
    if found.config is not None or obs.deleting or old.status != ConfigStatus.ACTIVE:
        return obs  # a stranger's config under the derived name, or nothing left to make
    return (yield from _room_for(obs, found))


def _room_for(obs: Observation, new: Observation) -> Reading[Observation]:
    """Whether EKS can hold the new config (``new``, not made yet) next to the old one
    (``obs.config``): the observation to go on with, the new config's or the old config's with
    the reason a replacement must delete first."""
    obj, old = obs.obj, obs.config
    assert old is not None
    fallback = obj.status.replacement_fallback
    if fallback is not None and fallback.generation == obj.metadata.generation:
        return obs.but(delete_first=fallback.reason)
    cluster = yield from reads.describe_cluster(obj.spec.cluster_name)
    if cluster is None:
        return obs  # gone between two calls: the next pass sees it missing
    names = yield from reads.list_configs(cluster.name)
    unrecorded = yield from _unrecorded_successor(obs, new, names)
    if unrecorded is not None:
        return unrecorded.but(previous=old, cluster=cluster)
    return _room_answer(obs, new, old, cluster, names)


def _unrecorded_successor(
    obs: Observation, new: Observation, names: tuple[str, ...]
) -> Reading[Observation | None]:
    """A derived config of ours that status does not know (a crash right after its
    association, then another spec change), looked at: it is finished and retired, never
    joined by a third."""
    for other in names:
        if other in (obs.config_name, new.config_name):
            continue
        if is_successor_of(other, obs.obj.config_name):
            found = yield from look(obs.but(name=other))
            if ours(obs, other, found.config) is not None:
                return found
    return None


def _room_answer(
    obs: Observation,
    new: Observation,
    old: ObservedConfig,
    cluster: ObservedCluster,
    names: tuple[str, ...],
) -> Observation:
    """The new config to make next to ``old``, or ``old`` deleted first when EKS cannot hold
    both."""
    reason = delete_first_reason(obs.obj, old, cluster, names)
    if reason is not None:
        return obs.but(delete_first=reason, cluster=cluster)
    neighbours = tuple(n for n in names if n != new.config_name)
    return new.but(config=None, previous=old, cluster=cluster, neighbours=neighbours)
