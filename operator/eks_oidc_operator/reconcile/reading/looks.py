"""Pure: the reads every gathering path shares: a config with its unknown update found, and the
cluster (with room on it) before an association."""

from __future__ import annotations

from eks_oidc_operator import constants
from eks_oidc_operator.models import ConfigStatus, EksUpdate
from eks_oidc_operator.models.eks import ObservedConfig
from eks_oidc_operator.reconcile.limits import provider_limit
from eks_oidc_operator.reconcile.observation import FINISHED_BADLY, Observation
from eks_oidc_operator.reconcile.reading import reads
from eks_oidc_operator.reconcile.reading.reads import Reading

IN_PROGRESS = constants.UPDATE_IN_PROGRESS

COUNT_CONFIGS_UP_TO = 1
"""Count the cluster's configs before associating only where it may have at most this many."""


def look(obs: Observation) -> Reading[Observation]:
    """``obs`` with the config of ``obs.config_name`` described, and its update found when
    status does not know it."""
    obj, name = obs.obj, obs.config_name
    config = yield from reads.describe_config(obj.spec.cluster_name, name)
    if config is None:
        return obs.but(config=None)
    seen = obs.but(config=config)
    if seen.owned_by_another is not None:
        return seen
    kind = (
        constants.UPDATE_DISASSOCIATE
        if config.status == ConfigStatus.DELETING
        else constants.UPDATE_ASSOCIATE
    )
    if not _update_unknown(seen, config, kind):
        return seen
    recovered = yield from reads.find_config_update(obj.spec.cluster_name, name, kind)
    return seen if recovered is None else seen.but(update=recovered)


def _update_unknown(seen: Observation, config: ObservedConfig, kind: str) -> bool:
    """Whether the update behind ``config`` must be looked for: a config whose update we do not
    know, after a crash between the Associate call and the status write (whether or not EKS
    has finished since), or one started outside. Found, never repeated; once the ARN is
    recorded this lookup does not recur."""
    update: EksUpdate | None = seen.update
    in_transition = config.status in (ConfigStatus.CREATING, ConfigStatus.DELETING)
    failed_ours = update is not None and update.type == kind and update.status in FINISHED_BADLY
    if in_transition and failed_ours:
        # Our own update of that kind failed and EKS has not collected the config yet: there is
        # nothing to find, and looking would cost a ListUpdates at every pass until it does.
        return False
    settled_or_unknown = update is None or update.status != IN_PROGRESS
    return (in_transition and settled_or_unknown) or (
        update is None and seen.recorded_arn != config.arn
    )


def ours(obs: Observation, name: str, config: ObservedConfig | None) -> ObservedConfig | None:
    """``config`` if it is this object's (owner tag, or the ARN status records for ``name``)."""
    if config is None:
        return None
    view = obs.but(name=name, config=config)
    return config if view.mine_by_tag or (view.mine_by_tag is None and view.created_by_us) else None


def before_associating(base: Observation) -> Reading[Observation]:
    """No config of that name: is there a cluster, and room on it for one more provider?

    The config list is read only here, right before the one call it saves (an Associate that
    EKS would refuse for the provider limit), and only on clusters whose limit is one
    provider: there a second config is a common mistake. With a limit of ten, running into it
    is rare, and EKS's own refusal (one Associate, then held) is cheaper than a list before
    every association.
    """
    cluster = yield from reads.describe_cluster(base.obj.spec.cluster_name)
    if cluster is None:
        return base.but(cluster_missing=True)
    limit = provider_limit(cluster.version)
    if base.deleting or limit is None or limit > COUNT_CONFIGS_UP_TO:
        return base.but(cluster=cluster)
    names = yield from reads.list_configs(cluster.name)
    return base.but(cluster=cluster, neighbours=tuple(n for n in names if n != base.config_name))
