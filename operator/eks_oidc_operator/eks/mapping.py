"""Pure translation between our models and EKS's request/response shapes.

Nothing here performs I/O or imports boto3/botocore: requests are built as the plain dicts boto3
takes, responses arrive as the plain dicts boto3 returns (typed with ``mypy_boto3_eks``'s
TypedDicts for mypy only). That keeps the wire's shapes in one module, testable without a
client. The OIDC fields' wire names, and how EKS takes and reports each, come from the field
table (:mod:`eks_oidc_operator.models.oidc_fields`), so a new field needs no edit here.

A malformed response (a member the model promises is missing) raises :class:`KeyError` or
:class:`ValueError`; :mod:`eks_oidc_operator.eks.calls` turns that into an ``EksError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from eks_oidc_operator import constants
from eks_oidc_operator.models import EksUpdate, EksUpdateError
from eks_oidc_operator.models.eks import ObservedCluster, ObservedConfig
from eks_oidc_operator.models.oidc_fields import NAME_FIELD, OIDC_SETTINGS, OidcField, Shape

if TYPE_CHECKING:
    from mypy_boto3_eks.type_defs import (
        AssociateIdentityProviderConfigRequestTypeDef,
        ClusterTypeDef,
        OidcIdentityProviderConfigRequestTypeDef,
        OidcIdentityProviderConfigTypeDef,
        UpdateParamTypeDef,
        UpdateTypeDef,
    )

    from eks_oidc_operator.models import OidcConfigSpec

IDENTITY_PROVIDER_CONFIG_PARAM = "IdentityProviderConfig"
"""``params[].type`` of identity-provider updates; its ``value`` names the configs."""

IN_PROGRESS = constants.UPDATE_IN_PROGRESS
DISASSOCIATE = constants.UPDATE_DISASSOCIATE
"""A disassociation's params never name the config (see below)."""


def oidc_request(name: str, oidc: OidcConfigSpec) -> OidcIdentityProviderConfigRequestTypeDef:
    """Build the ``oidc`` member of AssociateIdentityProviderConfig.

    Parameters
    ----------
    name
        The config name EKS will know it by (the spec's name, already defaulted by the caller).
    oidc
        The desired configuration.

    Returns
    -------
    OidcIdentityProviderConfigRequestTypeDef
        Optional members are omitted, not sent as null, when unset; ``requiredClaims`` is also
        omitted when empty, because EKS's defaults apply only to members that are absent.
    """
    request: dict[str, Any] = {NAME_FIELD.wire: name}
    for field in OIDC_SETTINGS:
        value = _requested(field, oidc)
        if value is not None:
            request[field.wire] = value
    # The keys come from the field table, so mypy cannot see them; tests check the wire form.
    return cast("OidcIdentityProviderConfigRequestTypeDef", request)


def _requested(field: OidcField, oidc: OidcConfigSpec) -> Any:
    """What the request carries for ``field``; ``None`` leaves the member out."""
    value = field.of(oidc)
    if field.shape is Shape.MAP:
        return dict(value) if value else None
    return value


def associate_request(
    cluster: str, name: str, oidc: OidcConfigSpec, tags: Mapping[str, str], token: str
) -> AssociateIdentityProviderConfigRequestTypeDef:
    """Build the whole AssociateIdentityProviderConfig request.

    Parameters
    ----------
    cluster
        Cluster name.
    name
        Config name.
    oidc
        The desired configuration.
    tags
        Tags for the new config; omitted when empty (EKS's ``TagMap`` needs at least one entry).
    token
        The ``clientRequestToken``: the caller's deterministic token, so a repeated call after
        a crash is recognised by EKS instead of starting a second association.

    Returns
    -------
    AssociateIdentityProviderConfigRequestTypeDef
        The keyword arguments of ``associate_identity_provider_config``.
    """
    request: AssociateIdentityProviderConfigRequestTypeDef = {
        "clusterName": cluster,
        "oidc": oidc_request(name, oidc),
        "clientRequestToken": token,
    }
    if tags:
        request["tags"] = dict(tags)
    return request


def observed_cluster(cluster: ClusterTypeDef, *, name: str) -> ObservedCluster:
    """Reduce DescribeCluster's ``cluster`` to what the operator reads.

    Parameters
    ----------
    cluster
        The ``cluster`` member of the response.
    name
        The name that was asked for, used if EKS leaves ``name`` out.

    Returns
    -------
    ObservedCluster
        Name, status and Kubernetes version (which sets how many identity providers the
        cluster may have).
    """
    return ObservedCluster(
        name=cluster.get("name", name),
        status=cluster["status"],
        version=cluster.get("version", ""),
    )


def observed_config(
    oidc: OidcIdentityProviderConfigTypeDef, *, cluster: str, name: str
) -> ObservedConfig:
    """Map DescribeIdentityProviderConfig's ``identityProviderConfig.oidc``.

    Parameters
    ----------
    oidc
        The ``oidc`` member of the response.
    cluster, name
        What was asked for, used if EKS leaves ``clusterName`` or the config name out.

    Returns
    -------
    ObservedConfig
        Unset prefixes stay ``None`` (EKS omits them); ``requiredClaims`` and ``tags`` are
        ``{}`` when EKS returns them empty or not at all.
    """
    return ObservedConfig(
        name=oidc.get("identityProviderConfigName", name),
        arn=oidc["identityProviderConfigArn"],
        cluster_name=oidc.get("clusterName", cluster),
        status=oidc["status"],
        tags=dict(oidc.get("tags") or {}),
        **{field.python: _observed(field, oidc) for field in OIDC_SETTINGS},
    )


def _observed(field: OidcField, oidc: Mapping[str, Any]) -> Any:
    """``field``'s value in a response, as :class:`ObservedConfig` holds it."""
    if field.shape is Shape.REQUIRED:
        return oidc[field.wire]
    if field.shape is Shape.MAP:
        return dict(oidc.get(field.wire) or {})
    return oidc.get(field.wire)


def observed_update(update: UpdateTypeDef) -> EksUpdate:
    """Map an ``Update`` (from Associate, Disassociate or DescribeUpdate).

    Parameters
    ----------
    update
        The ``update`` member of the response.

    Returns
    -------
    EksUpdate
        ``created_at`` in UTC; ``config_names`` decoded from the identity-provider params.
    """
    created = update.get("createdAt")
    return EksUpdate(
        id=update["id"],
        type=update.get("type"),
        status=update["status"],
        created_at=_utc(created) if created is not None else None,
        errors=tuple(
            EksUpdateError(
                error_code=detail.get("errorCode"),
                error_message=detail.get("errorMessage"),
                resource_ids=tuple(detail.get("resourceIds") or ()),
            )
            for detail in update.get("errors") or ()
        ),
        config_names=config_names(update.get("params") or ()),
    )


def config_names(params: Iterable[UpdateParamTypeDef]) -> tuple[str, ...]:
    """Decode the config names an identity-provider update's params carry.

    Parameters
    ----------
    params
        ``Update.params``. For identity-provider updates one of them has type
        ``IdentityProviderConfig`` and a *JSON-encoded string* value such as
        ``[{"type":"oidc","name":"corp-sso"}]``. Disassociations carry ``"[]"``.

    Returns
    -------
    tuple[str, ...]
        The names, in EKS's order. A value that is not the documented JSON yields nothing
        rather than an error: params are informative, and polling must not fail on them.
    """
    names: list[str] = []
    for param in params:
        if param.get("type") != IDENTITY_PROVIDER_CONFIG_PARAM:
            continue
        try:
            decoded = json.loads(param.get("value") or "[]")
        except ValueError:
            continue
        if not isinstance(decoded, list):
            continue
        names.extend(
            item["name"]
            for item in decoded
            if isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and item.get("type", constants.EKS_CONFIG_TYPE) == constants.EKS_CONFIG_TYPE
        )
    return tuple(names)


def newest_config_update(updates: Iterable[EksUpdate], name: str, type: str) -> EksUpdate | None:
    """Pick the update that most likely belongs to config ``name``: crash recovery.

    Parameters
    ----------
    updates
        The cluster's updates, in any order.
    name
        Config name.
    type
        ``AssociateIdentityProviderConfig`` or ``DisassociateIdentityProviderConfig``.

    Returns
    -------
    EksUpdate or None
        The newest (by ``createdAt``) update of ``type`` whose params name ``name``. EKS puts
        ``"[]"`` in a disassociation's params, so for that type the newest *InProgress*
        disassociation is taken instead: EKS runs one update per cluster at a time, so at most
        one can be in flight, and a finished one cannot be told apart from another config's.
    """

    def matches(update: EksUpdate) -> bool:
        if update.type != type:
            return False
        if name in update.config_names:
            return True
        return type == DISASSOCIATE and not update.config_names and update.status == IN_PROGRESS

    oldest = datetime.min.replace(tzinfo=UTC)
    candidates = sorted(
        (u for u in updates if matches(u)),
        key=lambda u: u.created_at or oldest,
        reverse=True,
    )
    return candidates[0] if candidates else None


def _utc(moment: datetime) -> datetime:
    # botocore parses timestamps into the *local* zone; status is written in UTC everywhere.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
