"""Server-side parameter rules that botocore's model does not express (pure functions).

Length, count, range, pattern and enum constraints *are* in the model and are enforced
generically by ``protocol.py``; what is here comes from the EKS documentation and the
observed responses collected in docs/eks-behaviour.md. Each function returns ``None`` when
the value is acceptable, or raises :class:`~eks_simulator.errors.EksError`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from eks_simulator.entities import Cluster, IdpConfig
from eks_simulator.errors import EksError, invalid_parameter, invalid_request

RESERVED_TAG_PREFIX = "aws:"
"""Reserved for AWS; "cannot be used on keys or values" (EKS tagging guide)."""

MAX_TAGS_PER_RESOURCE = 50

SAME_AS_CLUSTER_ISSUER_MESSAGE = (
    "Incorrect Identity Provider URL configuration. The Identity Provider URL cannot be same "
    "as OpenID Connect (OIDC) issuer URL"
)
"""Verbatim AWS message (docs/eks-behaviour.md §2.4, observed in terraform-aws-eks#3328)."""

_CONFIG_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,99}")
"""Our choice for the unspecified config-name rule: 1-100 characters, the cluster-name
alphabet plus ``.`` (Kubernetes object names), never ``/`` (it would break the ARN)."""

_VERSION = re.compile(r"1\.(\d{1,2})")
_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+")
SUPPORTED_MINOR_VERSIONS = range(23, 36)
"""Kubernetes 1.23 .. 1.35 are accepted by CreateCluster."""


def normalise_issuer(url: str) -> str:
    """The issuer as compared for equality (a trailing slash does not make it different)."""
    return url.rstrip("/")


def check_issuer_url(url: str, cluster: str) -> None:
    """The issuer must be an ``https://`` URL without query parameters (API reference)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise invalid_parameter(
            f"Issuer URL '{url}' is invalid. The issuer URL must begin with https://", cluster
        )
    if parts.query or parts.fragment or "?" in url:
        raise invalid_parameter(
            f"Issuer URL '{url}' is invalid. Path components are allowed but query "
            "parameters are not",
            cluster,
        )


def check_not_cluster_issuer(url: str, cluster_issuer: str, cluster: str) -> None:
    """An identity provider may not reuse the cluster's own IRSA issuer."""
    if normalise_issuer(url) == normalise_issuer(cluster_issuer):
        raise invalid_parameter(SAME_AS_CLUSTER_ISSUER_MESSAGE, cluster)


def check_prefix(member: str, prefix: str | None, cluster: str) -> None:
    """``usernamePrefix`` / ``groupsPrefix`` "can't contain ``system:``" (API reference)."""
    if prefix is not None and "system:" in prefix:
        raise invalid_parameter(f"{member} can't contain the reserved string 'system:'", cluster)


def check_config_name(name: str, cluster: str) -> None:
    """Our (documented) rule for ``identityProviderConfigName``; see ``_CONFIG_NAME``."""
    if not _CONFIG_NAME.fullmatch(name):
        raise invalid_parameter(
            f"Identity provider config name '{name}' is invalid. It must be 1-100 characters: "
            "letters, digits, '-', '_' and '.', starting with a letter or digit",
            cluster,
        )


def check_client_id(client_id: str, cluster: str) -> None:
    """The audience must not be empty (the model has no ``min``, so botocore sends ``""``)."""
    if not client_id:
        raise invalid_parameter("clientId must not be empty", cluster)


def check_tags(tags: dict[str, str], *, code: str, cluster: str | None = None) -> None:
    """Reserved ``aws:`` prefix on any key or value (case-insensitive), and the 50-tag cap.

    ``code`` is ``InvalidParameterException`` on create/associate and
    ``BadRequestException`` on the tag operations, whose models list only that one.
    """
    members = {} if cluster is None else {"clusterName": cluster}
    for key, value in tags.items():
        for text in (key, value):
            if text.lower().startswith(RESERVED_TAG_PREFIX):
                raise EksError(
                    code,
                    f"Tag keys and values can't begin with the reserved prefix "
                    f"'{RESERVED_TAG_PREFIX}': '{text}'",
                    **members,
                )
    if len(tags) > MAX_TAGS_PER_RESOURCE:
        raise EksError(code, f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags", **members)


def parse_version(version: str) -> tuple[int, int]:
    """``"1.31"`` -> ``(1, 31)``; raises InvalidParameterException if unsupported."""
    match = _VERSION.fullmatch(version)
    if match is None or int(match.group(1)) not in SUPPORTED_MINOR_VERSIONS:
        raise invalid_parameter(f"unsupported Kubernetes version {version}")
    return (1, int(match.group(1)))


def provider_limit_for(version: str, override: int | None) -> int:
    """OIDC providers per cluster: 1 below Kubernetes 1.32, 10 from 1.32 (user guide)."""
    if override is not None:
        return override
    match = _VERSION.fullmatch(version)
    minor = int(match.group(1)) if match else 0
    return 10 if minor >= 32 else 1


def check_role_arn(role_arn: str) -> None:
    """CreateCluster needs an IAM role ARN (message as moto's, which says it copied AWS)."""
    if not _ROLE_ARN.fullmatch(role_arn):
        raise invalid_parameter(f"Invalid Role Arn: '{role_arn}'")


def check_subnets(subnet_ids: list[str] | None) -> None:
    """CreateCluster needs at least two subnets ("in at least two different AZs")."""
    if subnet_ids is None or len(set(subnet_ids)) < 2:
        raise invalid_parameter("Subnets specified must be in at least two different AZs")


def check_room_for_provider(
    cluster: Cluster, config: IdpConfig, limit_override: int | None, size_limit: int
) -> None:
    """Steps 7-8 of Associate's checks (docs/eks-behaviour.md §2.4): name and issuer
    uniqueness, then the limits.

    Every config counts, whatever its status (one left CREATING by a failed association
    too, until it is garbage-collected).
    """
    name = cluster.name
    if config.name in cluster.configs:
        raise EksError(
            "ResourceInUseException",
            f"Identity provider config {config.name} already exists for cluster {name}",
            clusterName=name,
        )
    issuer = normalise_issuer(config.issuer_url)
    if any(normalise_issuer(c.issuer_url) == issuer for c in cluster.configs.values()):
        raise invalid_parameter(
            f"Identity provider with issuer URL {config.issuer_url} is already associated "
            f"with cluster {name}",
            name,
        )
    limit = provider_limit_for(cluster.version, limit_override)
    if len(cluster.configs) >= limit:
        raise invalid_request(
            f"Cluster {name} already has the maximum number of identity provider configs "
            f"({limit}) for Kubernetes version {cluster.version}",
            name,
        )
    total = config.size_bytes() + sum(c.size_bytes() for c in cluster.configs.values())
    if total > size_limit:
        raise invalid_request(
            f"The identity provider configs of cluster {name} would exceed the combined size "
            f"limit of {size_limit} bytes",
            name,
        )
