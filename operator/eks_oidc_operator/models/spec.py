"""The desired state of an ``OidcIdentityProvider``: what the user writes under ``spec``.

The fields of :class:`OidcConfigSpec` mirror EKS's ``OidcIdentityProviderConfigRequest`` field for
field, so a reader of the EKS API reference recognises them. Each constraint is written twice on
purpose: once as a pydantic constraint (the operator refuses bad input it somehow receives) and
once as an OpenAPI/CEL rule in the generated CRD (the API server refuses it at ``kubectl apply``,
with a message that names the field). :mod:`eks_oidc_operator.models.crd` turns these models into
the CRD; the ``x-kubernetes-validations`` below are the CEL half.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator
from pydantic.config import JsonDict

from eks_oidc_operator.constants import OPERATOR_TAG_PREFIX, RESERVED_TAG_PREFIX
from eks_oidc_operator.models.base import CamelModel

CLUSTER_NAME_PATTERN = r"^[0-9A-Za-z][A-Za-z0-9\-_]*$"
"""EKS's ``ClusterName`` pattern (service model), anchored at both ends."""

REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$"
"""AWS region names such as ``eu-west-1``, ``us-gov-west-1``, ``us-isob-east-1``."""

ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"
"""An IAM role ARN in any partition."""

CONFIG_NAME_PATTERN = r"^[0-9A-Za-z][A-Za-z0-9._-]*$"
MAX_CONFIG_NAME = 100
"""EKS's limit on an identity-provider config name (and so on a metadata.name used as one)."""
"""EKS documents no rule for config names; we accept what a Kubernetes name can hold."""

RESERVED_TAG_MESSAGE = (
    f"spec.tags keys must not start with '{RESERVED_TAG_PREFIX}' (reserved by AWS)"
)
RESERVED_TAG_VALUE_MESSAGE = (
    f"spec.tags values must not start with '{RESERVED_TAG_PREFIX}' (reserved by AWS)"
)
OPERATOR_TAG_MESSAGE = (
    f"spec.tags keys must not start with '{OPERATOR_TAG_PREFIX}' (the operator's ownership tags)"
)
"""Said by the CRD's CEL rules at apply time and by the model for a body that slipped past them."""

EKS_MAX_TAGS = 50
"""EKS ``TagMap`` limit: 50 tags per resource."""

MAX_REQUIRED_CLAIMS = 50
"""A bound of our own (EKS documents no count): keeps the object, and the config, small."""

OPERATOR_TAGS = 2
"""Tags the operator adds to every config it owns (owner, management cluster)."""

MAX_TAGS = EKS_MAX_TAGS - OPERATOR_TAGS
"""What the spec may set, leaving room for the operator's own tags."""

RESERVED_PREFIX = "system:"
"""EKS rejects username/groups prefixes containing ``system:`` (Kubernetes reserves it)."""


def _cel(rule: str, message: str) -> JsonDict:
    return {"rule": rule, "message": message}


def _immutable(field: str) -> JsonDict:
    return _cel("self == oldSelf", f"spec.{field} is immutable: create a new object instead")


ClaimKey = Annotated[str, StringConstraints(min_length=1, max_length=63)]
ClaimValue = Annotated[str, StringConstraints(min_length=1, max_length=253)]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=256)]


class DeletionPolicy(StrEnum):
    """What happens to the EKS association when the Kubernetes object is deleted."""

    DELETE = "Delete"
    RETAIN = "Retain"


class IssuerCheckMode(StrEnum):
    """How the issuer pre-flight's findings count."""

    ENFORCE = "Enforce"
    """A wrong answer (HTTP error, another issuer, no keys, bad certificate) stops the object
    before any EKS call; a network failure only warns."""
    WARN = "Warn"
    """Every finding only warns."""
    SKIP = "Skip"
    """No pre-flight."""


class ReplacementPolicy(StrEnum):
    """How a change of ``spec.oidc`` reaches EKS, which cannot edit a config."""

    CREATE_BEFORE_DELETE = "CreateBeforeDelete"
    """Associate the new config under a derived name next to the old one, and disassociate the
    old one once the new one is ACTIVE: no outage. Falls back to deleting first (announced)
    where EKS cannot hold both."""
    DELETE_BEFORE_CREATE = "DeleteBeforeCreate"
    """Disassociate the config, then associate the new one: sign-in is down in between."""
    NEVER = "Never"
    """Refuse the change once associated (Stalled until it is reverted), as ACK does."""


class AdoptionPolicy(StrEnum):
    """Whether a config this operator did not create may become the object's."""

    MATCHING = "Matching"
    """Adopt a config of that name that carries no owner tag and has exactly the spec's
    settings, and tag it as this object's."""
    NEVER = "Never"
    """Only configs this object created (or that carry its owner tag) are its own."""


class ManagementPolicy(StrEnum):
    """How much of the config the object manages."""

    FULL = "Full"
    """Associate, tag, replace and (on delete, per ``deletionPolicy``) disassociate."""
    OBSERVE = "Observe"
    """Only read the config and report it: never a mutating EKS call, never a tag; deleting the
    object leaves the config as it is."""


class OidcConfigSpec(CamelModel):
    """The OIDC identity-provider configuration, as EKS's AssociateIdentityProviderConfig takes it.

    EKS cannot edit a config in place: a change here is carried out as a replacement
    (disassociate, wait, associate). The config *name* is the exception: it is how the operator
    finds its config in EKS, so renaming would orphan the old one; it is immutable instead.

    Each field also has a row in :mod:`eks_oidc_operator.models.oidc_fields` (wire name, how EKS
    reports it when unset, whether it names a successor config); a test fails until it does.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "has(self.identityProviderConfigName) == "
                    "has(oldSelf.identityProviderConfigName)",
                    "spec.oidc.identityProviderConfigName is immutable: it cannot be added or "
                    "removed after creation",
                ),
            ]
        }
    )

    identity_provider_config_name: (
        Annotated[
            str,
            StringConstraints(
                min_length=1, max_length=MAX_CONFIG_NAME, pattern=CONFIG_NAME_PATTERN
            ),
        ]
        | None
    ) = Field(
        default=None,
        description=(
            "Name of the identity-provider config in EKS. Defaults to metadata.name. Immutable. "
            "1-100 characters: letters, digits, '.', '_' and '-', starting with a letter or digit."
        ),
        json_schema_extra={
            "x-kubernetes-validations": [_immutable("oidc.identityProviderConfigName")]
        },
    )
    issuer_url: Annotated[str, StringConstraints(min_length=9, max_length=2048)] = Field(
        description=(
            "URL of the OIDC issuer: must start with https://, may have a path, and must not "
            "have a query or fragment. EKS fetches <issuerUrl>/.well-known/openid-configuration."
        ),
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "self.startsWith('https://')",
                    "spec.oidc.issuerUrl must start with https:// (EKS accepts only https issuers)",
                ),
                _cel(
                    "!self.contains('?') && !self.contains('#')",
                    "spec.oidc.issuerUrl must not contain a query (?) or fragment (#)",
                ),
                _cel(
                    "self.matches('^https://[^/:@]+')",
                    "spec.oidc.issuerUrl must name a host: https://HOST[:PORT][/path]",
                ),
            ]
        },
    )
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="Client ID (audience) of the ID tokens the cluster accepts.",
    )
    username_claim: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None,
        description="JWT claim used as the username. EKS defaults to 'sub'.",
    )
    username_prefix: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None,
        description=(
            "Prefix prepended to usernames to avoid clashes with existing names; '-' "
            "disables prefixing. Must not contain 'system:'."
        ),
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "!self.contains('system:')",
                    "spec.oidc.usernamePrefix must not contain 'system:' (reserved by Kubernetes)",
                )
            ]
        },
    )
    groups_claim: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None,
        description="JWT claim that holds the user's groups.",
    )
    groups_prefix: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None,
        description="Prefix prepended to group names. Must not contain 'system:'.",
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "!self.contains('system:')",
                    "spec.oidc.groupsPrefix must not contain 'system:' (reserved by Kubernetes)",
                )
            ]
        },
    )
    required_claims: dict[ClaimKey, ClaimValue] | None = Field(
        default=None,
        max_length=MAX_REQUIRED_CLAIMS,
        description=(
            "Key/value pairs that must be present in the ID token's claims. Keys are 1-63 "
            "characters, values 1-253."
        ),
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "self.all(k, size(k) >= 1 && size(k) <= 63)",
                    "spec.oidc.requiredClaims keys must be 1-63 characters long",
                ),
                _cel(
                    "self.all(k, size(self[k]) >= 1 && size(self[k]) <= 253)",
                    "spec.oidc.requiredClaims values must be 1-253 characters long",
                ),
            ]
        },
    )

    @field_validator("username_prefix", "groups_prefix")
    @classmethod
    def _no_system_prefix(cls, value: str | None) -> str | None:
        if value is not None and RESERVED_PREFIX in value:
            msg = f"must not contain {RESERVED_PREFIX!r} (reserved by Kubernetes)"
            raise ValueError(msg)
        return value

    @field_validator("issuer_url")
    @classmethod
    def _https_without_query(cls, value: str) -> str:
        if not value.startswith("https://"):
            msg = "must start with https://"
            raise ValueError(msg)
        if "?" in value or "#" in value:
            msg = "must not contain a query (?) or fragment (#)"
            raise ValueError(msg)
        if not re.match(r"https://[^/:@]+", value):
            msg = "must name a host: https://HOST[:PORT][/path]"
            raise ValueError(msg)
        return value


def role_account(role_arn: str | None) -> str:
    """The AWS account of an IAM role ARN (``arn:PARTITION:iam::ACCOUNT:role/NAME``); empty
    without a role: the operator's own identity, whose account is not known without asking
    STS."""
    parts = (role_arn or "").split(":")
    return parts[4] if len(parts) > 4 else ""


class OidcIdentityProviderSpec(CamelModel):
    """Desired state: which cluster, which OIDC provider, which tags, and what deletion does."""

    # A field-level ``self == oldSelf`` only runs when the field exists on both sides, so adding
    # or removing ``region`` or ``roleArn`` after creation is caught here, one level up.
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "has(self.region) == has(oldSelf.region)",
                    "spec.region is immutable: it cannot be added or removed after creation",
                ),
                _cel(
                    "has(self.roleArn) == has(oldSelf.roleArn)",
                    "spec.roleArn is immutable: it cannot be added or removed after creation",
                ),
            ]
        }
    )

    cluster_name: Annotated[
        str, StringConstraints(min_length=1, max_length=100, pattern=CLUSTER_NAME_PATTERN)
    ] = Field(
        description=(
            "Name of the EKS cluster to associate the provider with. Immutable. 1-100 "
            "characters: letters, digits, '-' and '_', starting with a letter or digit."
        ),
        json_schema_extra={"x-kubernetes-validations": [_immutable("clusterName")]},
    )
    region: (
        Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=REGION_PATTERN)]
        | None
    ) = Field(
        default=None,
        description=(
            "AWS region of the cluster, such as eu-west-1. Defaults to the operator's region "
            "when the object is first seen; that region is kept in status.region and used from "
            "then on. Immutable."
        ),
        json_schema_extra={"x-kubernetes-validations": [_immutable("region")]},
    )
    role_arn: (
        Annotated[str, StringConstraints(max_length=2048, pattern=ROLE_ARN_PATTERN)] | None
    ) = Field(
        default=None,
        description=(
            "IAM role the operator assumes to reach this cluster (cross-account). Defaults "
            "to the operator's own credentials. Immutable: another role may reach a cluster of "
            "the same name in another account, which would orphan the first association."
        ),
        json_schema_extra={"x-kubernetes-validations": [_immutable("roleArn")]},
    )
    oidc: OidcConfigSpec = Field(
        description="The OIDC identity-provider configuration, field for field as EKS takes it."
    )
    tags: dict[TagKey, TagValue] | None = Field(
        default=None,
        max_length=MAX_TAGS,
        description=(
            "Tags on the EKS identity-provider config, as a map of key: value ({team: platform}; "
            "not a list of {key, value} pairs). Changing them re-tags the config without "
            f"replacing it. At most {MAX_TAGS} (EKS allows 50; the operator adds its own "
            "ownership tags); keys 1-128 characters, values up to 256; neither keys nor values "
            f"may start with '{RESERVED_TAG_PREFIX}', and keys not with '{OPERATOR_TAG_PREFIX}'."
        ),
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "self.all(k, size(k) >= 1 && size(k) <= 128)",
                    "spec.tags keys must be 1-128 characters long",
                ),
                _cel(
                    f"self.all(k, !k.lowerAscii().startsWith('{RESERVED_TAG_PREFIX}'))",
                    RESERVED_TAG_MESSAGE,
                ),
                _cel(
                    f"self.all(k, !self[k].lowerAscii().startsWith('{RESERVED_TAG_PREFIX}'))",
                    RESERVED_TAG_VALUE_MESSAGE,
                ),
                _cel(
                    f"self.all(k, !k.lowerAscii().startsWith('{OPERATOR_TAG_PREFIX}'))",
                    OPERATOR_TAG_MESSAGE,
                ),
            ]
        },
    )
    client_request_token: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = (
        Field(
            default=None,
            description=(
                "Idempotency token base for EKS calls. Defaults to one derived from the object's "
                "uid and generation, which makes every call safe to repeat after a crash."
            ),
        )
    )
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE,
        description=(
            "Delete: disassociate the config from the cluster when this object is deleted. "
            "Retain: leave the association in EKS."
        ),
    )
    replacement_policy: ReplacementPolicy | None = Field(
        default=None,
        description=(
            "What a change of spec.oidc does, since EKS cannot edit a config. "
            "CreateBeforeDelete: associate the new settings as a second config (named "
            "<name>-<8 hex digits of the settings>) and disassociate the old one once the new "
            "one is ACTIVE, so sign-in never stops; where EKS cannot hold both (Kubernetes "
            "below 1.32, the provider or size limit, the same issuer URL) it deletes first, "
            "announced by a Warning before it starts. DeleteBeforeCreate: disassociate, then "
            "associate (no sign-in in between, announced by a Warning). Never: refuse the "
            "change (Stalled until it is reverted). Unset: CreateBeforeDelete."
        ),
    )
    issuer_check: IssuerCheckMode | None = Field(
        default=None,
        description=(
            "The issuer pre-flight before an association: Enforce (an issuer that answers "
            "wrongly stops the object before any EKS call; a network failure only warns), Warn "
            "(everything only warns) or Skip. Defaults to the operator's setting (Enforce)."
        ),
    )
    adoption_policy: AdoptionPolicy = Field(
        default=AdoptionPolicy.MATCHING,
        description=(
            "Matching: a config of that name that carries no owner tag and has exactly the "
            "spec's settings is adopted and tagged as this object's. Never: only configs this "
            "object created are its own. A config tagged as another object's is never adopted."
        ),
    )
    management_policy: ManagementPolicy = Field(
        default=ManagementPolicy.FULL,
        description=(
            "Full: the operator associates, tags, replaces and disassociates the config. "
            "Observe: it only reads the named config and reports it (Ready when it is ACTIVE "
            "and matches the spec; a difference is shown as Stalled with reason DriftDetected, "
            "never corrected); it makes no mutating EKS call, writes no tag, and deleting the "
            "object leaves the config in EKS. Observe to Full takes the config over under "
            "spec.adoptionPolicy; Full to Observe stops managing it (its owner tag stays)."
        ),
    )

    @field_validator("tags")
    @classmethod
    def _no_aws_prefix(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        keys = [key.lower() for key in value or {}]
        values = [text.lower() for text in (value or {}).values()]
        # In the order the CRD's CEL rules are listed, so both name the same first offence.
        for texts, prefix, message in (
            (keys, RESERVED_TAG_PREFIX, RESERVED_TAG_MESSAGE),
            (values, RESERVED_TAG_PREFIX, RESERVED_TAG_VALUE_MESSAGE),
            (keys, OPERATOR_TAG_PREFIX, OPERATOR_TAG_MESSAGE),
        ):
            if any(text.startswith(prefix) for text in texts):
                raise ValueError(message)
        return value
