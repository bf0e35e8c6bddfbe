"""Pure: one immutable observation of an object and of EKS, gathered once per pass.

The rules read nothing else, so a rule's answer depends on what the observation says and on
nothing that could change under it. Gathering (:mod:`eks_oidc_operator.runtime.gather`) fills
it; the derived views below are computed from it, never stored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from eks_oidc_operator import constants
from eks_oidc_operator.models import (
    ConfigStatus,
    EksUpdate,
    IssuerCheckMode,
    OidcIdentityProvider,
)
from eks_oidc_operator.models.eks import EksError, ObservedCluster, ObservedConfig
from eks_oidc_operator.reconcile.guards.issuer import IssuerCheck
from eks_oidc_operator.reconcile.guards.ownership import Owner, owner_of, tagged_owner
from eks_oidc_operator.reconcile.replacement.delta import oidc_differences

FINISHED_BADLY = ("Failed", "Cancelled")
"""Final update statuses that leave no association behind."""


def new_to_eks(obj: OidcIdentityProvider) -> bool:
    """Nothing of ``obj`` is in EKS as far as its status knows (no config, no update): its
    next step can only be an Associate, which needs the cluster's turn."""
    status = obj.status
    if status.identity_provider_config_arn or status.update is not None:
        return False
    return status.previous_config is None and status.config_status is None


class CrdState(Enum):
    """What the operator's own CRD was doing when a deletion pass read it."""

    SERVING = "Serving"
    """Not being deleted: a deleted object is just that object being deleted."""
    DELETING = "Deleting"
    """Being deleted, which deletes every object with it: the objects let go (see
    :func:`~.rules.before_eks.crd_deleted`)."""
    UNREAD = "Unread"
    """Could not be read (no permission, no answer): a deleted object cannot be told apart from
    a deleted CRD, so its deletion waits."""


@dataclass(frozen=True)
class Checks:
    """What the handler found out before the pass, from things only it can see: the tenancy
    policy, the index of all objects, and the issuer pre-flight (async HTTP)."""

    denied: str | None = None
    """Why the tenancy policy does not permit the object (``None``: it does)."""
    rival: str | None = None
    """An older object (``<namespace>/<name>``) naming the same config (see
    :mod:`~.guards.claims`)."""
    issuer: IssuerCheck | None = None
    """The issuer pre-flight of this pass, if one ran."""
    issuer_mode: IssuerCheckMode = IssuerCheckMode.ENFORCE
    """How its findings count (``spec.issuerCheck``, else the operator's default)."""
    may_adopt: bool = False
    """The tenancy policy lets the object adopt, or observe, a config the operator did not
    create (its granting rule says ``adopt: true``)."""
    crd: CrdState = CrdState.SERVING
    """The CRD's state, read on deletion passes only."""
    crd_problem: str = ""
    """A word on why the CRD is not serving (why it could not be read, with
    :attr:`CrdState.UNREAD`)."""


@dataclass(frozen=True)
class Observation:
    """The object as the pass read it, and what EKS (and the cluster gate) said about it."""

    obj: OidcIdentityProvider
    name: str = ""
    """The config this pass works on (empty: the base name, ``obj.config_name``). During a
    make-before-break replacement, the new config's derived name."""
    identity: Owner | None = None
    """Who this object is in ownership tags (see :mod:`~.guards.ownership`); by default its
    namespace and name without a management cluster."""
    checks: Checks = Checks()
    """What the handler found out before the pass (tenancy, rivals, issuer)."""
    config: ObservedConfig | None = None
    """The config of that name on the cluster; ``None`` when absent or not looked at (while the
    tracked update is still in progress, one DescribeUpdate is all a poll asks)."""
    previous: ObservedConfig | None = None
    """During a make-before-break replacement: the object's old config, still on the cluster
    (serving until :attr:`config` is ACTIVE, then disassociated)."""
    delete_first: str | None = None
    """Why a replacement of :attr:`config` must delete it first (gathering found that EKS
    cannot hold a second config), if it was asked; ``None`` otherwise."""
    config_unread: bool = False
    """The config was not described: the object is new to EKS, so it is presumed absent and
    the pass associates at once. EKS refuses a name that is taken (or replays the same token),
    and a refused Associate is followed by the full look (see
    :mod:`~eks_oidc_operator.reconcile.reading.observe`)."""
    update: EksUpdate | None = None
    """The tracked (``status.update``) or recovered update, freshly described when it mattered."""
    cluster_missing: bool = False
    """DescribeCluster said 404. Only asked when the config is missing."""
    cluster: ObservedCluster | None = None
    """The cluster, when asked (only when the config is missing, before associating)."""
    neighbours: tuple[str, ...] = ()
    """The cluster's other configs, when the config is missing (the provider-limit
    pre-flight)."""
    gate_holder: str | None = None
    """Another object of this operator that is updating the same cluster, if any."""
    error: EksError | None = None
    """The EKS (or SDK) error that ended gathering, or that a planned call met."""

    def but(self, **changes: Any) -> Observation:
        """This observation with some fields replaced (a call's answer, a lost race)."""
        return dataclasses.replace(self, **changes)

    @property
    def config_name(self) -> str:
        """The name of the config this pass works on."""
        return self.name or self.obj.config_name

    @property
    def recorded_arn(self) -> str | None:
        """The ARN status records for the config of :attr:`config_name`, if any."""
        status = self.obj.status
        if (status.identity_provider_config_name or self.obj.config_name) == self.config_name:
            return status.identity_provider_config_arn
        previous = status.previous_config
        if previous is not None and previous.name == self.config_name:
            return previous.arn
        return None

    @property
    def replacing(self) -> str | None:
        """The name of the old config a make-before-break replacement keeps serving, if any
        (from status while the pass only polled an update)."""
        if self.previous is not None:
            return self.previous.name
        recorded = self.obj.status.previous_config
        if self.only_polled and recorded is not None:
            return recorded.name
        return None

    @property
    def only_polled(self) -> bool:
        """The pass only polled an in-flight update: it described no config (what status
        recorded about the configs still stands)."""
        return self.config is None and self.in_progress is not None

    @property
    def deleting(self) -> bool:
        """The object has a deletionTimestamp."""
        return self.obj.metadata.deletion_timestamp is not None

    @property
    def denied(self) -> str | None:
        """Why the tenancy policy does not permit the object (``None``: it does)."""
        return self.checks.denied

    @property
    def rival(self) -> str | None:
        """An older object naming the same config, if any."""
        return self.checks.rival

    @property
    def me(self) -> Owner:
        """This object, as ownership tags name it."""
        return self.identity if self.identity is not None else owner_of(self.obj, "")

    @property
    def config_owner(self) -> Owner | None:
        """The owner the observed config's tags name (``None``: untagged, or no config)."""
        return tagged_owner(self.config.tags) if self.config is not None else None

    @property
    def mine_by_tag(self) -> bool | None:
        """Whether the config's owner tag says it is this object's (``None``: untagged).

        A tag naming this object but no management cluster, on the config whose ARN status
        records, is still ours: it was written before the management cluster's name was
        configured (tag sync then completes it). Without the recorded ARN it could be another
        management cluster's object of the same namespace and name.
        """
        owner, config = self.config_owner, self.config
        if owner is None or config is None:
            return None
        if owner == self.me:
            return True
        recorded = self.recorded_arn == config.arn
        return owner.name == self.me.name and not owner.management_cluster and recorded

    @property
    def owned_by_another(self) -> Owner | None:
        """The other object the observed config's tags say owns it, if any."""
        return self.config_owner if self.mine_by_tag is False else None

    @property
    def tracked(self) -> EksUpdate | None:
        """The update status records (the one this object started or adopted last)."""
        return self.obj.status.update

    @property
    def in_progress(self) -> EksUpdate | None:
        """The observed update, if EKS is still running it."""
        update = self.update
        return (
            update if update is not None and update.status == constants.UPDATE_IN_PROGRESS else None
        )

    @property
    def failed(self) -> EksUpdate | None:
        """The observed update, if it ended Failed or Cancelled."""
        update = self.update
        return update if update is not None and update.status in FINISHED_BADLY else None

    @property
    def differences(self) -> list[str]:
        """The ``spec.oidc`` fields the observed config does not have (none without a config)."""
        if self.config is None:
            return []
        return oidc_differences(self.obj.spec.oidc, self.config)

    @property
    def config_status(self) -> ConfigStatus | None:
        """The observed config's status."""
        return ConfigStatus(self.config.status) if self.config is not None else None

    @property
    def created_by_us(self) -> bool:
        """Whether the observed config is this object's: its owner tag says so; or, untagged
        (made before ownership tags existed), its recorded ARN, or made by our tracked update.

        The Associate response carries no ARN, so right after our own association the ARN is not
        in status yet; the tracked update (stored before anything else) vouches for the config.
        """
        config = self.config
        if config is None:
            return False
        by_tag = self.mine_by_tag
        if by_tag is not None:
            return by_tag
        if self.recorded_arn == config.arn:
            return True
        tracked, update = self.tracked, self.update
        # An association that failed or was cancelled made nothing: a config seen after it
        # was made by someone else, even under the same name.
        return (
            tracked is not None
            and update is not None
            and update.id == tracked.id
            and update.type == constants.UPDATE_ASSOCIATE
            and update.status not in FINISHED_BADLY
            and (not update.config_names or config.name in update.config_names)
        )
