"""The observed state of an ``OidcIdentityProvider``: what the operator writes under ``status``.

Conditions follow ``metav1.Condition`` and kstatus, so ``kubectl wait --for=condition=Ready``,
Flux and Argo CD read them with no custom code. The EKS side is mirrored as EKS reports it
(``configStatus``, ``update``) so a human sees EKS's own words.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from eks_oidc_operator.models.base import CamelModel


class Phase(StrEnum):
    """A one-word summary for printer columns; conditions carry the real meaning."""

    PENDING = "Pending"
    ASSOCIATING = "Associating"
    ACTIVE = "Active"
    REPLACING = "Replacing"
    DISASSOCIATING = "Disassociating"
    FAILED = "Failed"


class ConfigStatus(StrEnum):
    """The identity-provider config's status as EKS reports it."""

    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    DELETING = "DELETING"


class ConditionStatus(StrEnum):
    """``metav1.ConditionStatus``."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class _StatusModel(CamelModel):
    # Status is written by the operator, possibly by an older or newer version of it: tolerate
    # keys this version does not know instead of refusing to read the object.
    model_config = ConfigDict(extra="ignore")


class Condition(_StatusModel):
    """One ``metav1.Condition``."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=316)] = Field(
        description="Condition type: Ready, Reconciling or Stalled."
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        description="CamelCase reason; for errors, EKS's error code or exception name."
    )
    message: Annotated[str, StringConstraints(max_length=32768)] = Field(
        default="", description="Human-readable details; for errors, EKS's own message."
    )
    last_transition_time: datetime = Field(
        description="When status last changed (not when reason or message changed)."
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation the condition was computed for."
    )


class EksUpdateError(_StatusModel):
    """One entry of an EKS update's ``errors[]``."""

    error_code: str | None = Field(default=None, description="EKS's error code.")
    error_message: str | None = Field(default=None, description="EKS's error message.")
    resource_ids: tuple[str, ...] = Field(
        default_factory=tuple, description="The resources the error refers to."
    )


class EksUpdate(_StatusModel):
    """One EKS update (an association or a disassociation), as EKS reports it.

    The one model of an update: the ``eks`` layer returns it from Associate, Disassociate and
    DescribeUpdate, the decision code reads it, and ``status.update`` is its camelCase dump.
    """

    id: str = Field(description="EKS update id, stored as soon as EKS returns it.")
    type: str | None = Field(
        default=None,
        description="AssociateIdentityProviderConfig or DisassociateIdentityProviderConfig.",
    )
    status: str | None = Field(
        default=None, description="InProgress, Successful, Failed or Cancelled."
    )
    created_at: datetime | None = Field(default=None, description="When EKS created the update.")
    errors: tuple[EksUpdateError, ...] = Field(
        default_factory=tuple, description="EKS's errors for a failed update."
    )
    config_names: SkipJsonSchema[tuple[str, ...]] = Field(default=(), exclude=True)
    """Config names decoded from the update's ``params`` (a JSON string in EKS's answer).

    Only a freshly described update has them; they are not written to status (nor in the CRD
    schema): the decision code reads them only from EKS's own answer."""


class Hold(_StatusModel):
    """The operator stopped calling EKS for this object after a refusal that repeating cannot
    fix: until the spec changes, a retry is asked for, or (when set) ``until``."""

    reason: str = Field(description="The Stalled condition's reason when the hold began.")
    generation: int = Field(description="metadata.generation the hold applies to.")
    until: datetime | None = Field(
        default=None,
        description="When the operator looks again by itself; absent: only on a change.",
    )
    deleting: bool = Field(default=False, description="The hold belongs to the object's deletion.")


class PreviousConfig(_StatusModel):
    """The object's other config during a make-before-break replacement: the old one, serving
    until the new one is ACTIVE, then being disassociated."""

    name: str = Field(description="Its name in EKS.")
    arn: str | None = Field(default=None, description="Its ARN.")
    config_status: ConfigStatus | None = Field(
        default=None, description="CREATING, ACTIVE or DELETING, as EKS last reported it."
    )


class Fallback(_StatusModel):
    """EKS refused to hold the new config next to the old one: this generation's replacement
    deletes the old config first."""

    generation: int = Field(description="metadata.generation the fallback applies to.")
    reason: str = Field(description="Why the old config must go first (EKS's refusal).")


class OidcIdentityProviderStatus(_StatusModel):
    """Everything the operator knows about the association, written through ``/status``."""

    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation the status was computed for."
    )
    phase: Phase | None = Field(default=None, description="One-word summary for printer columns.")
    region: str | None = Field(default=None, description="The region the operator resolved.")
    identity_provider_config_name: str | None = Field(
        default=None,
        description=(
            "The config the object works on in EKS: spec.oidc.identityProviderConfigName (or "
            "metadata.name), or during and after a make-before-break replacement the derived "
            "name of the new settings."
        ),
    )
    identity_provider_config_arn: str | None = Field(
        default=None, description="ARN of the identity-provider config in EKS."
    )
    config_status: ConfigStatus | None = Field(
        default=None, description="CREATING, ACTIVE or DELETING, as EKS reports it."
    )
    serving_config_name: str | None = Field(
        default=None,
        description="The ACTIVE config sign-in goes through now; absent while none is ACTIVE.",
    )
    previous_config: PreviousConfig | None = Field(
        default=None,
        description=(
            "During a make-before-break replacement: the old config, serving until the new one "
            "is ACTIVE, then disassociated."
        ),
    )
    replacement_fallback: Fallback | None = Field(
        default=None,
        description="Set when EKS refused the new config next to the old one (see Fallback).",
    )
    update: EksUpdate | None = Field(
        default=None, description="The last EKS update the operator started or adopted."
    )
    update_generation: int | None = Field(
        default=None,
        description="metadata.generation the tracked update was started for.",
    )
    hold: Hold | None = Field(
        default=None,
        description="Set while the operator makes no EKS calls for this object (see Stalled).",
    )
    queued_since: datetime | None = Field(
        default=None,
        description=(
            "Set while the object waits for its turn behind another object's EKS update on the "
            "same cluster (it makes no EKS calls meanwhile); when it started waiting."
        ),
    )
    retry_request: str | None = Field(
        default=None,
        description=(
            "The eksoidc.io/retry annotation as the last pass saw it; a new value asks for a "
            "retry of a stalled object."
        ),
    )
    last_handled_reconcile_at: str | None = Field(
        default=None,
        description=(
            "The eksoidc.io/reconcile-requested-at annotation as the last pass saw it (a value "
            "over 64 characters as sha256:<digest>): a request recorded here has been answered."
        ),
    )
    observed_config_arn: str | None = Field(
        default=None,
        description=(
            "spec.managementPolicy Observe: ARN of the config the last pass read (not this "
            "object's unless its owner tag says so)."
        ),
    )
    automatic_retries: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Automatic retries of a failed EKS update made at observedGeneration (bounded; a "
            "spec change or the eksoidc.io/retry annotation starts the count again)."
        ),
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Reconciling and Stalled, with kstatus semantics.",
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
    )
