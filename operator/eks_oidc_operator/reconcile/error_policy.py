"""The error policy table: what each EKS error means for the resource, in one place.

Input is the EKS error code (an API exception name, a failed update's ``errorCode``, or a
botocore exception name for failures that never reached EKS); output is the condition reason,
whether the object is Stalled, how it is retried, and the event type. ``docs/errors.md``
prints this table for users; ``tests/unit/reconcile/test_error_policy.py`` pins it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from eks_oidc_operator.reconcile import reasons
from eks_oidc_operator.reconcile.reasons import (
    CLUSTER_NOT_FOUND,
    CLUSTER_UPDATE_IN_PROGRESS,
    CREDENTIALS_INVALID,
    EKS_UNREACHABLE,
)


class Retry(StrEnum):
    """How an error is retried."""

    BACKOFF = "Backoff"
    """Transient: retry with exponential backoff and jitter (Reconciling=True)."""
    SLOW = "Slow"
    """Needs a human but may be fixed outside the spec (IAM, quotas): Stalled=True, retried
    rarely, so the object recovers by itself once the cause is gone."""
    NEVER = "Never"
    """The request itself is wrong: Stalled=True until the spec changes."""


@dataclass(frozen=True)
class ErrorPolicy:
    """The meaning of one error code."""

    reason: str
    retry: Retry

    @property
    def stalled(self) -> bool:
        """kstatus Stalled: only a human (or time) can fix it."""
        return self.retry is not Retry.BACKOFF


# Where a reason is not the EKS code itself (see `reasons`), the code is too generic to read
# well in `kubectl get`, or several codes mean the same thing to the user.
API_ERRORS: dict[str, ErrorPolicy] = {
    # One update at a time per cluster (409): wait for it, it ends by itself.
    "ResourceInUseException": ErrorPolicy(CLUSTER_UPDATE_IN_PROGRESS, Retry.BACKOFF),
    # GitOps may create the cluster after the object: wait with growing backoff.
    "ResourceNotFoundException": ErrorPolicy(CLUSTER_NOT_FOUND, Retry.BACKOFF),
    "NotFoundException": ErrorPolicy("NotFoundException", Retry.BACKOFF),
    # Cluster state (not ACTIVE, config still CREATING): the state moves on by itself.
    "InvalidRequestException": ErrorPolicy("InvalidRequestException", Retry.BACKOFF),
    # The request is wrong: nothing changes until the spec does.
    "InvalidParameterException": ErrorPolicy("InvalidParameterException", Retry.NEVER),
    "BadRequestException": ErrorPolicy("BadRequestException", Retry.NEVER),
    "ParamValidationError": ErrorPolicy("ParamValidationError", Retry.NEVER),
    # Limits and client-side problems a human resolves outside the spec.
    "ResourceLimitExceededException": ErrorPolicy("ResourceLimitExceededException", Retry.SLOW),
    "ClientException": ErrorPolicy("ClientException", Retry.SLOW),
    "AccessDeniedException": ErrorPolicy("AccessDeniedException", Retry.SLOW),
    "AccessDenied": ErrorPolicy("AccessDenied", Retry.SLOW),
    "UnauthorizedOperation": ErrorPolicy("UnauthorizedOperation", Retry.SLOW),
    # Credentials: missing, expired or rejected. Fixed by rotating secrets or IRSA, not the spec.
    "NoCredentialsError": ErrorPolicy(reasons.NO_CREDENTIALS, Retry.SLOW),
    "PartialCredentialsError": ErrorPolicy(reasons.NO_CREDENTIALS, Retry.SLOW),
    "NoRegionError": ErrorPolicy(reasons.NO_REGION, Retry.SLOW),
    "ExpiredTokenException": ErrorPolicy(CREDENTIALS_INVALID, Retry.SLOW),
    "ExpiredToken": ErrorPolicy(CREDENTIALS_INVALID, Retry.SLOW),
    "InvalidClientTokenId": ErrorPolicy(CREDENTIALS_INVALID, Retry.SLOW),
    "UnrecognizedClientException": ErrorPolicy(CREDENTIALS_INVALID, Retry.SLOW),
    "SignatureDoesNotMatch": ErrorPolicy(CREDENTIALS_INVALID, Retry.SLOW),
    "InvalidSignatureException": ErrorPolicy(CREDENTIALS_INVALID, Retry.SLOW),
    # Still failing after botocore's own retries: back off further, never crash-loop.
    "ThrottlingException": ErrorPolicy("ThrottlingException", Retry.BACKOFF),
    "TooManyRequestsException": ErrorPolicy("ThrottlingException", Retry.BACKOFF),
    # The mass-deletion guard: the window moves on by itself, or a human confirms.
    reasons.DELETION_HELD: ErrorPolicy(reasons.DELETION_HELD, Retry.BACKOFF),
    # The operator's own throttle of one namespace's calls: as EKS's, it passes by itself.
    reasons.NAMESPACE_BUDGET_EXHAUSTED: ErrorPolicy(
        reasons.NAMESPACE_BUDGET_EXHAUSTED, Retry.BACKOFF
    ),
    "ServerException": ErrorPolicy("ServerException", Retry.BACKOFF),
    "ServiceUnavailableException": ErrorPolicy("ServiceUnavailableException", Retry.BACKOFF),
    "EndpointConnectionError": ErrorPolicy(EKS_UNREACHABLE, Retry.BACKOFF),
    "ConnectTimeoutError": ErrorPolicy(EKS_UNREACHABLE, Retry.BACKOFF),
    "ReadTimeoutError": ErrorPolicy(EKS_UNREACHABLE, Retry.BACKOFF),
    "ConnectionClosedError": ErrorPolicy(EKS_UNREACHABLE, Retry.BACKOFF),
}
"""Exceptions of the API calls (and of botocore before any call)."""


def _failed(code: str) -> str:
    """The condition reason of an update that failed with EKS's ``code``: readable on its own
    (EKS's ``Unknown`` alone reads like "status unknown"), EKS's code kept whole at its end."""
    return f"{reasons.UPDATE_FAILED}{code}"


_UPDATE_RETRY: dict[str, Retry] = {
    # Permissions of the caller or of the cluster role: fixed in IAM.
    "AccessDenied": Retry.SLOW,
    "OperationNotPermitted": Retry.SLOW,
    # The configuration itself clashes with the cluster: change the spec.
    "ConfigurationConflict": Retry.NEVER,
    "AdmissionRequestDenied": Retry.NEVER,
    "K8sResourceNotFound": Retry.NEVER,
    "UnsupportedAddonModification": Retry.NEVER,
    # Infrastructure of the cluster (network, capacity): fixed outside; retry rarely.
    "SubnetNotFound": Retry.SLOW,
    "SecurityGroupNotFound": Retry.SLOW,
    "VpcIdNotFound": Retry.SLOW,
    "EniLimitReached": Retry.SLOW,
    "IpNotAvailable": Retry.SLOW,
    "InsufficientFreeAddresses": Retry.SLOW,
    # Transient control-plane trouble: a new association may well succeed.
    "Unknown": Retry.SLOW,
    "ClusterUnreachable": Retry.SLOW,
    "InsufficientNumberOfReplicas": Retry.SLOW,
    "NodeCreationFailure": Retry.SLOW,
    "PodEvictionFailure": Retry.SLOW,
}

UPDATE_ERRORS: dict[str, ErrorPolicy] = {
    code: ErrorPolicy(_failed(code), retry) for code, retry in _UPDATE_RETRY.items()
}
"""``errors[].errorCode`` of a Failed update. A failed update always stalls the object (the
user must learn of it); SLOW ones are associated again later with a fresh token."""


STS_OPERATION = "AssumeRole"
"""The operation a failure of STS (not EKS) carries (see ``eks/factory.py``)."""


def api_error_policy(code: str, operation: str = "") -> ErrorPolicy:
    """The policy of an API/SDK error; unknown codes are treated as transient, with their name.
    A network failure on the way to STS (``operation`` AssumeRole) is STS's, not EKS's."""
    policy = API_ERRORS.get(code, ErrorPolicy(code or reasons.EKS_ERROR, Retry.BACKOFF))
    if operation == STS_OPERATION and policy.reason == EKS_UNREACHABLE:
        return ErrorPolicy(reasons.STS_UNREACHABLE, policy.retry)
    return policy


def update_error_policy(code: str | None) -> ErrorPolicy:
    """The policy of a failed update's error code; unknown codes stall and retry slowly."""
    if not code:
        return ErrorPolicy(reasons.UPDATE_FAILED, Retry.SLOW)
    return UPDATE_ERRORS.get(code, ErrorPolicy(_failed(code), Retry.SLOW))


_MEANING = {
    Retry.BACKOFF: "Reconciling=True; retried with exponential backoff and jitter (capped)",
    Retry.SLOW: "Stalled=True; retried rarely (slow backoff), recovers once fixed outside",
    Retry.NEVER: "Stalled=True; not retried until the spec changes",
}


def markdown_table() -> str:
    """The error table as Markdown, for ``docs/errors.md`` (a test keeps the doc in sync)."""
    lines = [
        "| source | EKS / SDK code | condition reason | what the operator does | event |",
        "|---|---|---|---|---|",
    ]
    for source, table in (("API call", API_ERRORS), ("failed update", UPDATE_ERRORS)):
        for code, policy in table.items():
            lines.append(
                f"| {source} | `{code}` | `{policy.reason}` | {_MEANING[policy.retry]} | Warning |"
            )
    return "\n".join(lines) + "\n"
