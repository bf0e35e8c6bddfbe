"""Every event type and condition/event reason the operator writes, in one place.

A reason is a stable CamelCase word that users grep for, alert on and match in GitOps health
checks, so each is written once, here. Error reasons that are EKS's own codes (for example
``InvalidParameterException``) are not listed: the error policy passes them through as EKS
spelled them (see :mod:`eks_oidc_operator.reconcile.error_policy`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class EventType(StrEnum):
    """Kubernetes Event types: progress is ``Normal``, anything a human should see ``Warning``."""

    NORMAL = "Normal"
    WARNING = "Warning"


# Progress
ASSOCIATING: Final = "Associating"
"""An association is being started or followed."""
ASSOCIATED: Final = "Associated"
"""The config became ACTIVE (event)."""
ACTIVE: Final = "Active"
"""Ready: the config is ACTIVE in EKS and matches the spec."""
ADOPTED: Final = "Adopted"
"""A matching config that none of our associations created was taken over (event)."""
REPLACING: Final = "Replacing"
"""spec.oidc changed: the config is disassociated and associated again."""
WAITING_FOR_DISASSOCIATION: Final = "WaitingForDisassociation"
"""The config is DELETING in EKS; nothing can be done until it is gone."""
TAGS_UPDATED: Final = "TagsUpdated"
"""Tags were synced in place (event)."""
DISASSOCIATING: Final = "Disassociating"
"""Deletion: the config is being disassociated, or deletion waits for EKS."""
DISASSOCIATED: Final = "Disassociated"
"""Deletion: the config is not associated any more; the finalizer goes."""
RETAINED: Final = "Retained"
"""Deletion with ``deletionPolicy: Retain``: the config stays in EKS."""
CRD_DELETED: Final = "CrdDeleted"
"""Deletion because the CRD is being deleted: the config stays in EKS, as with ``Retain``."""
CRD_UNREAD: Final = "CrdUnread"
"""Deletion waits: the CRD could not be read, so a deleted CRD cannot be ruled out."""
CLUSTER_GONE: Final = "ClusterGone"
"""Deletion: the cluster no longer exists, so there is nothing to disassociate."""
NOT_OWNED: Final = "NotOwned"
"""Deletion: the config of that name is not this object's; it is left in place."""
OBSERVED: Final = "Observed"
"""``managementPolicy: Observe``: the config is ACTIVE and matches the spec (event); and, on
deletion, the config is left as it is."""
PAUSED: Final = "Paused"
"""The pause annotation stops every EKS call for the object (condition and event)."""
RESUMED: Final = "Resumed"
"""The pause annotation was removed: the object is managed again (event)."""

# Trouble
DRIFT_DETECTED: Final = "DriftDetected"
"""The config was removed, or is being removed, outside the operator; or, observed only, it
differs from the spec."""
CONFIG_NOT_FOUND: Final = "ConfigNotFound"
"""``managementPolicy: Observe``: no config of that name on the cluster."""
CLUSTER_UPDATE_IN_PROGRESS: Final = "ClusterUpdateInProgress"
"""EKS runs one update per cluster: another one is running (a 409, or our own queue)."""
CLUSTER_NOT_FOUND: Final = "ClusterNotFound"
"""No EKS cluster of that name (yet)."""
CONFIG_CONFLICT: Final = "ConfigConflict"
"""A config of that name exists with other settings and is not this object's."""
UPDATE_FAILED: Final = "UpdateFailed"
"""A failed EKS update that carries no error code."""
EKS_UNREACHABLE: Final = "EksUnreachable"
"""The EKS endpoint could not be reached (connection refused, timeouts)."""
STS_UNREACHABLE: Final = "StsUnreachable"
"""STS could not be reached for the AssumeRole of ``spec.roleArn`` (network, timeout)."""
CREDENTIALS_INVALID: Final = "CredentialsInvalid"
"""AWS refused the credentials (expired, unknown, bad signature)."""
NO_CREDENTIALS: Final = "NoCredentials"
"""No credentials found (or only part of them)."""
NO_REGION: Final = "NoRegion"
"""No region: not in the spec, the operator's default or the environment."""
CONFIG_OWNED_BY_ANOTHER: Final = "ConfigOwnedByAnother"
"""The config's owner tag names another object: it is never tagged, replaced or disassociated."""
NOT_ADOPTED: Final = "NotAdopted"
"""An untagged config of that name exists and ``adoptionPolicy: Never`` forbids adopting it."""
ADOPTION_NOT_PERMITTED: Final = "AdoptionNotPermitted"
"""A config the operator did not create exists, and the tenancy policy does not let this
namespace adopt or observe such configs (rule field ``adopt``)."""
DELETION_HELD: Final = "DeletionHeld"
"""More objects were deleted within the deletion window than its budget: this one's
disassociation waits (finalizer held) until the window moves on or the deletion is confirmed."""
NAMESPACE_BUDGET_EXHAUSTED: Final = "NamespaceBudgetExhausted"
"""The object's namespace has spent its EKS call budget for now (a flood): the call was not
made, and is retried with backoff like EKS's own throttling."""
NOT_PERMITTED: Final = "NotPermitted"
"""The cluster admin's tenancy policy does not permit this namespace the role, region or
cluster; no AWS call is made."""
PROVIDER_LIMIT_REACHED: Final = "ProviderLimitReached"
"""The cluster already has as many identity providers as its Kubernetes version allows."""
PROVIDER_LIMIT_EXCEEDED: Final = "ProviderLimitExceeded"
"""EKS refused the association for a limit (provider count or combined size) on an ACTIVE
cluster."""
REPLACEMENT_REFUSED: Final = "ReplacementRefused"
"""spec.oidc changed and ``replacementPolicy: Never`` keeps the config as it is."""
REPLACEMENT_OUTAGE: Final = "ReplacementOutage"
"""A replacement that deletes the config first: sign-in is down until the new one is ACTIVE
(event)."""
RETRYING: Final = "Retrying"
"""A failed EKS update is being retried automatically (event)."""
EKS_ERROR: Final = "EksError"
"""An EKS error without a code (should not happen; better than an empty reason)."""
