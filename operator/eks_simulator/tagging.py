"""Tags: which resource an ARN names, and the tag rules (pure functions).

Only clusters and identity-provider configs are taggable here; their tags are independent
("tags don't propagate"). The tag operations model only two errors, so everything wrong
with the request is ``BadRequestException`` (400) and every unknown resource is
``NotFoundException`` (404) - not ``ResourceNotFoundException`` as moto sends
(docs/eks-behaviour.md §2.3).
"""

from __future__ import annotations

from collections.abc import Mapping

from eks_simulator import rules
from eks_simulator.entities import Cluster, IdpConfig
from eks_simulator.errors import EksError

ARN_PARTS = 6
"""``arn:partition:service:region:account:resource``."""


def resolve(clusters: Mapping[str, Cluster], arn_prefix: str, arn: str) -> Cluster | IdpConfig:
    """The resource ``arn`` names.

    Parameters
    ----------
    clusters
        The existing clusters by name.
    arn_prefix
        ``arn:{partition}:eks:{region}:{account}:`` of this simulator; an ARN of another
        region or account names nothing here (404, as for a deleted resource).
    arn
        The ARN from the request (already percent-decoded).
    """
    parts = arn.split(":", ARN_PARTS - 1)
    if len(parts) != ARN_PARTS or parts[0] != "arn" or parts[2] != "eks":
        raise EksError("BadRequestException", f"Invalid ARN: {arn}")
    not_found = EksError("NotFoundException", f"Resource not found: {arn}")
    if not arn.startswith(arn_prefix):
        raise not_found
    kind, *path = arn[len(arn_prefix) :].split("/")
    if kind == "cluster" and len(path) == 1:
        cluster = clusters.get(path[0])
        if cluster is None:
            raise not_found
        return cluster
    if kind == "identityproviderconfig" and len(path) == 4:  # cluster/oidc/name/uuid
        cluster = clusters.get(path[0])
        config = None if cluster is None else cluster.configs.get(path[2])
        if config is None or config.arn != arn:  # the uuid part must match too
            raise not_found
        return config
    raise EksError("BadRequestException", f"Unsupported resource type in ARN: {arn}")


def add_tags(resource: Cluster | IdpConfig, new: dict[str, str]) -> None:
    """Merge ``new`` into the resource's tags (same key overwrites), within the limits."""
    rules.check_tags(new, code="BadRequestException")
    rules.check_tags({**resource.tags, **new}, code="BadRequestException")
    resource.tags.update(new)


def remove_tags(resource: Cluster | IdpConfig, keys: list[str]) -> None:
    """Remove tag keys; an absent key is a silent no-op, a reserved ``aws:`` key an error."""
    for key in keys:
        if key.lower().startswith(rules.RESERVED_TAG_PREFIX):
            raise EksError(
                "BadRequestException", f"Tags with the 'aws:' prefix can't be removed: {key}"
            )
    for key in keys:
        resource.tags.pop(key, None)
