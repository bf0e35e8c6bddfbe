"""Names and numbers that appear in more than one place.

Each constant carries a docstring with its reason. Nothing here imports anything from the
project: every other layer may depend on this module, and it depends on none.
"""

from __future__ import annotations

from typing import Final

GROUP: Final = "eksoidc.io"
"""The project's own API group: our CRD, finalizer and annotations live under it."""

VERSION: Final = "v1alpha1"
"""The served and stored version of the CRD; alpha while the schema may still change."""

API_VERSION: Final = f"{GROUP}/{VERSION}"
"""``apiVersion`` of every object of our kind."""

KIND: Final = "OidcIdentityProvider"
"""The kind users write in their manifests."""

PLURAL: Final = "oidcidentityproviders"
"""The resource name in URLs and RBAC rules."""

SINGULAR: Final = "oidcidentityprovider"
"""``kubectl get oidcidentityprovider`` works because of this."""

SHORT_NAMES: Final = ("oidcidp",)
"""``kubectl get oidcidp``: the long name is tiring to type."""

CRD_NAME: Final = f"{PLURAL}.{GROUP}"
"""``metadata.name`` of the CustomResourceDefinition, fixed by Kubernetes as plural.group."""
CRD_PATH: Final = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CRD_NAME}"
"""The CRD's URL path on the API server (read on deletions, applied by the upgrade hook)."""

FINALIZER: Final = f"{GROUP}/finalizer"
"""Our own finalizer, so that no EKS association is orphaned when an object is deleted."""

ANNOTATION_PREFIX: Final = GROUP
"""Prefix of kopf's bookkeeping annotations, so they never clash with another kopf operator."""

FIELD_MANAGER: Final = "eks-oidc-operator"
"""Field manager name for server-side apply of our own objects."""

OPERATOR_NAMESPACE: Final = "eks-oidc-system"
"""Namespace the operator is installed into by default (chart and local control plane)."""

RESERVED_TAG_PREFIX: Final = "aws:"
"""AWS owns tags with this prefix (in any case): the spec may not set them, the operator never
compares or removes them."""

OPERATOR_TAG_PREFIX: Final = f"{GROUP}/"
"""The operator's own tags on EKS configs (ownership): the spec may not set them, and tag sync
never removes them."""

OWNER_TAG: Final = f"{GROUP}/owner"
"""Tag naming the object that owns a config: ``<namespace>/<name>``."""

MANAGEMENT_CLUSTER_TAG: Final = f"{GROUP}/management-cluster"
"""Tag naming the management cluster of the owning object (only when one is configured)."""

RETRY_ANNOTATION: Final = f"{GROUP}/retry"
"""Set (to any new value) by a user to ask for a retry of an object stalled on a failure. The
older spelling of :data:`RECONCILE_ANNOTATION`; both work the same."""

RECONCILE_ANNOTATION: Final = f"{GROUP}/reconcile-requested-at"
"""Set (to any new value, a timestamp by convention) by a user to ask for one pass now, holds
and retry backoffs notwithstanding; ``status.lastHandledReconcileAt`` records the value once
answered, so each request is answered once (Flux's ``reconcile.fluxcd.io/requestedAt``)."""

PAUSED_ANNOTATION: Final = f"{GROUP}/paused"
"""``"true"``: the operator makes no EKS call for the object and changes nothing but its
Paused condition (Crossplane's ``crossplane.io/paused``). ``"false"`` or absent: managed."""

DELETION_CONFIRMED_ANNOTATION: Final = f"{GROUP}/deletion-confirmed"
"""``"true"`` on a deleted object: its disassociation goes ahead even when the mass-deletion
guard holds the others (more deletions within the window than its budget)."""

NOT_PAUSED: Final = "false"
"""The one value of :data:`PAUSED_ANNOTATION` that does not pause: any other value pauses,
since pausing is the safe reading of a value the operator does not understand."""

EKS_CONFIG_TYPE: Final = "oidc"
"""EKS knows one identity-provider config type; it is part of every describe/disassociate call."""

# Condition types, kstatus semantics (https://github.com/kubernetes-sigs/cli-utils/tree/master/pkg/kstatus).
CONDITION_READY: Final = "Ready"
"""True only when EKS reports the config ACTIVE and it matches the spec at observedGeneration."""

CONDITION_RECONCILING: Final = "Reconciling"
"""True while work is in flight (association, replacement, disassociation, retry)."""

CONDITION_STALLED: Final = "Stalled"
"""True when progress needs a human: the reason is EKS's error code."""

CONDITION_PAUSED: Final = "Paused"
"""True while the pause annotation stops every EKS call for the object; absent otherwise. Not a
kstatus condition: Ready, Reconciling and Stalled keep what the last pass before the pause
found."""

CONDITION_ISSUER_VERIFIED: Final = "IssuerVerified"
"""The issuer pre-flight's last finding: True when the discovery document and keys are as EKS
needs them. Not a kstatus condition: it informs, Ready/Stalled decide."""

# EKS vocabulary shared by the eks layer and the decision code.
UPDATE_ASSOCIATE: Final = "AssociateIdentityProviderConfig"
"""EKS update type (and operation name) of an association."""

UPDATE_DISASSOCIATE: Final = "DisassociateIdentityProviderConfig"
"""EKS update type (and operation name) of a disassociation."""

UPDATE_IN_PROGRESS: Final = "InProgress"
"""EKS update status while it runs; the others (Successful, Failed, Cancelled) are final."""

UPDATE_SUCCESSFUL: Final = "Successful"
"""EKS update status of an update that did what it was asked."""
