"""Gathering: the EKS reads of one pass, into one :class:`Observation`. I/O, no decisions.

EKS calls are kept few on purpose. While a tracked update is in flight one poll is one
DescribeUpdate; the config is described only when the update has ended (or nothing is in
flight), and the cluster only when the config is missing. An EKS error ends gathering and is
part of the observation: what it means is the rules' business.
"""

from __future__ import annotations

from eks_oidc_operator import constants
from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.models import ConfigStatus, EksUpdate
from eks_oidc_operator.reconcile.limits import provider_limit
from eks_oidc_operator.reconcile.observation import FINISHED_BADLY, Observation
from eks_oidc_operator.reconcile.port import EksPort

IN_PROGRESS = constants.UPDATE_IN_PROGRESS

PREFLIGHT_UP_TO = 1
"""Count the cluster's configs before associating only where it may have at most this many."""


def gather(base: Observation, eks: EksPort) -> Observation:
    """``base`` (the object and the gate's answer) completed with what EKS says."""
    try:
        return _observe(base, eks)
    except EksError as error:
        return base.but(error=error)


def _observe(base: Observation, eks: EksPort) -> Observation:
    obj = base.obj
    cluster, name = obj.spec.cluster_name, obj.config_name
    tracked = obj.status.update
    update: EksUpdate | None = None
    if tracked is not None and tracked.status == IN_PROGRESS:
        update = eks.describe_update(cluster, tracked.id)
        if update is not None and update.status == IN_PROGRESS:
            return base.but(update=update)
    elif tracked is not None and tracked.status:
        update = tracked  # already final: no need to ask EKS again
    config = eks.describe_config(cluster, name)
    if config is None:
        return _before_associating(base.but(update=update), eks)
    in_transition = config.status in (ConfigStatus.CREATING, ConfigStatus.DELETING)
    unknown = update is None and obj.status.identity_provider_config_arn != config.arn
    if base.but(config=config).owned_by_another is not None:
        # Another object's config: its updates are not ours to follow, whatever their name.
        return base.but(config=config, update=update)
    kind = (
        constants.UPDATE_DISASSOCIATE
        if config.status == ConfigStatus.DELETING
        else constants.UPDATE_ASSOCIATE
    )
    failed_ours = update is not None and update.type == kind and update.status in FINISHED_BADLY
    if in_transition and failed_ours:
        # Our own update of that kind failed and EKS has not collected the config yet: there is
        # nothing to find, and looking would cost a ListUpdates at every pass until it does.
        return base.but(config=config, update=update)
    if (in_transition and (update is None or update.status != IN_PROGRESS)) or unknown:
        # A config whose update we do not know: after a crash between the Associate call and
        # the status write (whether or not EKS has finished since), or one started outside.
        # Find it, never repeat it. Once the ARN is recorded this lookup does not recur.
        recovered = eks.find_config_update(cluster, name, kind)
        if recovered is not None:
            update = recovered
    return base.but(config=config, update=update)


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
    return base.but(
        cluster=cluster, neighbours=tuple(n for n in names if n != base.obj.config_name)
    )
