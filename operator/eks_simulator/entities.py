"""The simulated resources (clusters, identity-provider configs, updates) and their wire form.

These are plain data with the lifecycle deadlines stored *on* the entity (``transition_at``,
``completes_at``, ``gc_at``), so the state file is just these models dumped, and the
pending-transition queue can be rebuilt from them after a restart.

``to_wire`` methods produce EKS's JSON member names; ``protocol.py`` then filters them
through botocore's output shapes, so a member EKS does not model can never leak out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field

ClusterStatus = Literal["CREATING", "ACTIVE", "DELETING", "FAILED", "UPDATING", "PENDING"]
ConfigStatus = Literal["CREATING", "DELETING", "ACTIVE"]
UpdateStatus = Literal["InProgress", "Failed", "Cancelled", "Successful"]
UpdateType = Literal["AssociateIdentityProviderConfig", "DisassociateIdentityProviderConfig"]


class ErrorDetail(BaseModel):
    """One entry of ``Update.errors`` (model shape ``ErrorDetail``)."""

    error_code: str
    error_message: str
    resource_ids: list[str] = Field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        """EKS JSON form."""
        return {
            "errorCode": self.error_code,
            "errorMessage": self.error_message,
            "resourceIds": list(self.resource_ids),
        }


class Update(BaseModel):
    """A cluster update created by an association or a disassociation."""

    id: str
    type: UpdateType
    status: UpdateStatus = "InProgress"
    config_name: str
    params_value: str
    """``params[0].value``: the JSON *string* EKS puts there (docs/eks-behaviour.md §3.3)."""
    created_at: float
    completes_at: float
    planned_failure: ErrorDetail | None = None
    """Set when a fault asked this update to end Failed; applied at ``completes_at``."""
    errors: list[ErrorDetail] = Field(default_factory=list)
    response_tags: dict[str, str] | None = None
    """The ``tags`` an Associate response carried, replayed with the same token."""

    def to_wire(self) -> dict[str, Any]:
        """EKS JSON form (model shape ``Update``)."""
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "params": [{"type": "IdentityProviderConfig", "value": self.params_value}],
            "createdAt": self.created_at,
            "errors": [error.to_wire() for error in self.errors],
        }


class OidcMember(NamedTuple):
    """One OIDC setting of a config: its attribute on :class:`IdpConfig` and its EKS member."""

    attr: str
    wire: str
    is_map: bool = False
    """``requiredClaims``: never sent empty, always reported (``{}`` when empty)."""


OIDC_MEMBERS: tuple[OidcMember, ...] = (
    OidcMember("issuer_url", "issuerUrl"),
    OidcMember("client_id", "clientId"),
    OidcMember("username_claim", "usernameClaim"),
    OidcMember("username_prefix", "usernamePrefix"),
    OidcMember("groups_claim", "groupsClaim"),
    OidcMember("groups_prefix", "groupsPrefix"),
    OidcMember("required_claims", "requiredClaims", is_map=True),
)
"""The simulator's one list of the OIDC settings EKS stores (all but the config's name), in
EKS's order: a config is built from a request, sized and reported through it. The simulator
must not import the operator, so this is not the operator's field table; a test checks that
both name the same members."""


class IdpConfig(BaseModel):
    """An OIDC identity-provider config attached to a cluster."""

    name: str
    arn: str
    cluster_name: str
    issuer_url: str
    client_id: str
    username_claim: str | None = None
    username_prefix: str | None = None
    groups_claim: str | None = None
    groups_prefix: str | None = None
    required_claims: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    status: ConfigStatus = "CREATING"
    gc_at: float | None = None
    """When a config left behind by a failed association disappears."""

    @staticmethod
    def settings_from_request(oidc: Mapping[str, Any]) -> dict[str, Any]:
        """The OIDC settings of an ``oidc`` request member, as keyword arguments of this model."""
        settings: dict[str, Any] = {}
        for member in OIDC_MEMBERS:
            value = oidc.get(member.wire)
            settings[member.attr] = dict(value or {}) if member.is_map else value
        return settings

    def request_form(self) -> dict[str, Any]:
        """The ``oidc`` request object this config was made from (used for the 12 KB limit)."""
        form: dict[str, Any] = {"identityProviderConfigName": self.name}
        for member in OIDC_MEMBERS:
            value = getattr(self, member.attr)
            # Unset members, and an empty map, were never sent.
            if value is not None and not (member.is_map and not value):
                form[member.wire] = value
        return form

    def size_bytes(self) -> int:
        """Size counted against the combined-size limit: the compact JSON request."""
        return len(json.dumps(self.request_form(), separators=(",", ":")).encode())

    def to_wire(self) -> dict[str, Any]:
        """EKS JSON form (``OidcIdentityProviderConfig``).

        Unset optional members are omitted rather than defaulted, and ``requiredClaims``
        and ``tags`` are always present (``{}`` when empty), as in the observed responses
        (docs/eks-behaviour.md §4.2).
        """
        wire: dict[str, Any] = {
            "identityProviderConfigName": self.name,
            "identityProviderConfigArn": self.arn,
            "clusterName": self.cluster_name,
        }
        for member in OIDC_MEMBERS:
            value = getattr(self, member.attr)
            if member.is_map:
                wire[member.wire] = dict(value)
            elif value is not None:
                wire[member.wire] = value
        wire["tags"] = dict(self.tags)
        wire["status"] = self.status
        return wire


class Cluster(BaseModel):
    """An EKS cluster with its identity-provider configs and update history."""

    uid: str
    """Distinguishes a cluster from a later one with the same name (stale-event guard)."""
    name: str
    arn: str
    created_at: float
    version: str
    role_arn: str
    status: ClusterStatus
    transition_at: float | None = None
    """When CREATING ends (-> ACTIVE) or DELETING ends (-> gone)."""
    issuer: str
    endpoint: str
    certificate_authority: str
    platform_version: str = "eks.1"
    resources_vpc_config: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    client_request_token: str | None = None
    configs: dict[str, IdpConfig] = Field(default_factory=dict)
    updates: dict[str, Update] = Field(default_factory=dict)
    """All updates ever made, oldest first (history is kept for the cluster's life)."""
    tokens: dict[str, str] = Field(default_factory=dict)
    """``"<Operation>:<clientRequestToken>"`` -> update id, for idempotent replay."""
    active_update_id: str | None = None
    phantom_update_id: str | None = None
    phantom_until: float | None = None
    """A fault: an invisible "platform" update blocking mutations until this time."""

    def to_wire(self) -> dict[str, Any]:
        """EKS JSON form (model shape ``Cluster``).

        The endpoint and CA data are withheld until the control plane exists, as the model
        documents ("aren't available until the cluster reaches the ACTIVE state").
        """
        wire: dict[str, Any] = {
            "name": self.name,
            "arn": self.arn,
            "createdAt": self.created_at,
            "version": self.version,
            "roleArn": self.role_arn,
            "resourcesVpcConfig": self.resources_vpc_config,
            "kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4"},
            "logging": {
                "clusterLogging": [
                    {
                        "types": [
                            "api",
                            "audit",
                            "authenticator",
                            "controllerManager",
                            "scheduler",
                        ],
                        "enabled": False,
                    }
                ]
            },
            "identity": {"oidc": {"issuer": self.issuer}},
            "status": self.status,
            "platformVersion": self.platform_version,
            "tags": dict(self.tags),
        }
        if self.status in ("ACTIVE", "UPDATING"):
            wire["endpoint"] = self.endpoint
            wire["certificateAuthority"] = {"data": self.certificate_authority}
        if self.client_request_token is not None:
            wire["clientRequestToken"] = self.client_request_token
        return wire
