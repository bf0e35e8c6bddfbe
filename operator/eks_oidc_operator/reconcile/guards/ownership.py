"""Pure: which object owns an EKS config, as the config's own tags say.

Every config the operator creates carries :data:`~eks_oidc_operator.constants.OWNER_TAG` (the
owning object's ``<namespace>/<name>``) and, when the operator is told the name of its
management cluster, :data:`~eks_oidc_operator.constants.MANAGEMENT_CLUSTER_TAG`. The tags live
in EKS, next to the config, so ownership survives operator restarts, lost status and a second
management cluster looking at the same EKS cluster.

The identity is namespace and name, not the uid, on purpose: an object deleted with
``deletionPolicy: Retain`` and applied again, re-created by GitOps, or restored from a backup is
the same declaration and finds its config again; the namespace is the tenancy boundary, so no
other team can write an object of that namespace and name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from eks_oidc_operator import constants
from eks_oidc_operator.models import OidcIdentityProvider

MAX_TAG_VALUE = 256
"""EKS's limit on a tag value."""


@dataclass(frozen=True)
class Owner:
    """The owner an ownership tag names."""

    name: str
    """``<namespace>/<name>``, shortened with a digest when longer than a tag value may be."""
    management_cluster: str = ""
    """The management cluster's name; empty when none is configured."""

    @property
    def tags(self) -> dict[str, str]:
        """The tags that say so on a config."""
        tags = {constants.OWNER_TAG: self.name}
        if self.management_cluster:
            tags[constants.MANAGEMENT_CLUSTER_TAG] = self.management_cluster
        return tags

    def __str__(self) -> str:
        where = (
            f" of management cluster {self.management_cluster}" if self.management_cluster else ""
        )
        return f"{self.name}{where}"


def owner_of(obj: OidcIdentityProvider, management_cluster: str) -> Owner:
    """The owner ``obj`` writes on the configs it creates."""
    name = f"{obj.metadata.namespace or ''}/{obj.metadata.name}"
    if len(name) > MAX_TAG_VALUE:
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        name = f"{name[: MAX_TAG_VALUE - 17]}-{digest}"
    return Owner(name, management_cluster[:MAX_TAG_VALUE])


def tagged_owner(tags: Mapping[str, str]) -> Owner | None:
    """The owner a config's tags name; ``None`` for a config without an owner tag."""
    name = tags.get(constants.OWNER_TAG)
    if name is None:
        return None
    return Owner(name, tags.get(constants.MANAGEMENT_CLUSTER_TAG, ""))
