"""The error policy table: what each EKS error means for the resource, in one place.

Input is the EKS error code (an API exception name, a failed update's ``errorCode``, or a
botocore exception name for failures that never reached EKS); output is the condition reason,
whether the object is Stalled, how it is retried, and the event type. ``docs/errors.md``
prints this table for users; ``tests/unit/reconcile/test_error_policy.py`` pins it.
"""

from __future__ import annotations

from dataclasses import dataclass

from eks_oidc_operator.reconcile import reasons
from eks_oidc_operator.reconcile.reasons import (
    CLUSTER_NOT_FOUND,
    CLUSTER_UPDATE_IN_PROGRESS,
    CREDENTIALS_INVALID,
    EKS_UNREACHABLE,
)
from eks_oidc_operator.reconcile.timing import Backoff


@dataclass(frozen=True)
class ErrorPolicy:
    """The meaning of one error code."""

    reason: str
    retry: Backoff | None
    """The schedule a retry follows: ``TRANSIENT`` (backoff with jitter, capped) for trouble
    that passes by itself, ``SLOW`` for trouble a human usually fixes outside the spec (IAM,
    quotas: Stalled, retried rarely, so the object recovers by itself once the cause is gone);
    ``None``: the request itself is wrong, Stalled until the spec changes."""

    @property
    def stalled(self) -> bool:
        """kstatus Stalled: only a human (or time) can fix it."""
        return self.retry is not Backoff.TRANSIENT


# Where a reason is not the EKS code itself (see `reasons`), the code is too generic to read
# well in `kubectl get`, or several codes mean the same thing to the user.
API_ERRORS: dict[str, ErrorPolicy] = {
    # One update at a time per cluster (409): wait for it, it ends by itself.
    "ResourceInUseException": ErrorPolicy(CLUSTER_UPDATE_IN_PROGRESS, Backoff.TRANSIENT),
    # GitOps may create the cluster after the object: wait with growing backoff.
    "ResourceNotFoundException": ErrorPolicy(CLUSTER_NOT_FOUND, Backoff.TRANSIENT),
    "NotFoundException": ErrorPolicy("NotFoundException", Backoff.TRANSIENT),
    # Cluster state (not ACTIVE, config still CREATING): the state moves on by itself.
    "InvalidRequestException": ErrorPolicy("InvalidRequestException", Backoff.TRANSIENT),
    # The request is wrong: nothing changes until the spec does.
    "InvalidParameterException": ErrorPolicy("InvalidParameterException", None),
    "BadRequestException": ErrorPolicy("BadRequestException", None),
    "ParamValidationError": ErrorPolicy("ParamValidationError", None),
    # Limits and client-side problems a human resolves outside the spec.
    "ResourceLimitExceededException": ErrorPolicy("ResourceLimitExceededException", Backoff.SLOW),
    "ClientException": ErrorPolicy("ClientException", Backoff.SLOW),
    "AccessDeniedException": ErrorPolicy("AccessDeniedException", Backoff.SLOW),
    "AccessDenied": ErrorPolicy("AccessDenied", Backoff.SLOW),
    "UnauthorizedOperation": ErrorPolicy("UnauthorizedOperation", Backoff.SLOW),
    # Credentials: missing, expired or rejected. Fixed by rotating secrets or IRSA, not the spec.
    "NoCredentialsError": ErrorPolicy(reasons.NO_CREDENTIALS, Backoff.SLOW),
    "PartialCredentialsError": ErrorPolicy(reasons.NO_CREDENTIALS, Backoff.SLOW),
    "NoRegionError": ErrorPolicy(reasons.NO_REGION, Backoff.SLOW),
    "ExpiredTokenException": ErrorPolicy(CREDENTIALS_INVALID, Backoff.SLOW),
    "ExpiredToken": ErrorPolicy(CREDENTIALS_INVALID, Backoff.SLOW),
    "InvalidClientTokenId": ErrorPolicy(CREDENTIALS_INVALID, Backoff.SLOW),
    "UnrecognizedClientException": ErrorPolicy(CREDENTIALS_INVALID, Backoff.SLOW),
    "SignatureDoesNotMatch": ErrorPolicy(CREDENTIALS_INVALID, Backoff.SLOW),
    "InvalidSignatureException": ErrorPolicy(CREDENTIALS_INVALID, Backoff.SLOW),
    # Still failing after botocore's own retries: back off further, never crash-loop.
    "ThrottlingException": ErrorPolicy("ThrottlingException", Backoff.TRANSIENT),
    "TooManyRequestsException": ErrorPolicy("ThrottlingException", Backoff.TRANSIENT),
    # The mass-deletion guard: the window moves on by itself, or a human confirms.
    reasons.DELETION_HELD: ErrorPolicy(reasons.DELETION_HELD, Backoff.TRANSIENT),
    # The operator's own throttle of one namespace's calls: as EKS's, it passes by itself.
    reasons.NAMESPACE_BUDGET_EXHAUSTED: ErrorPolicy(
        reasons.NAMESPACE_BUDGET_EXHAUSTED, Backoff.TRANSIENT
    ),
    "ServerException": ErrorPolicy("ServerException", Backoff.TRANSIENT),
    "ServiceUnavailableException": ErrorPolicy("ServiceUnavailableException", Backoff.TRANSIENT),
    "EndpointConnectionError": ErrorPolicy(EKS_UNREACHABLE, Backoff.TRANSIENT),
    "ConnectTimeoutError": ErrorPolicy(EKS_UNREACHABLE, Backoff.TRANSIENT),
    "ReadTimeoutError": ErrorPolicy(EKS_UNREACHABLE, Backoff.TRANSIENT),
    "ConnectionClosedError": ErrorPolicy(EKS_UNREACHABLE, Backoff.TRANSIENT),
}
"""Exceptions of the API calls (and of botocore before any call)."""


def _failed(code: str) -> str:
    """The condition reason of an update that failed with EKS's ``code``: readable on its own
    (EKS's ``Unknown`` alone reads like "status unknown"), EKS's code kept whole at its end."""
    return f"{reasons.UPDATE_FAILED}{code}"


_UPDATE_RETRY: dict[str, Backoff | None] = {
    # Permissions of the caller or of the cluster role: fixed in IAM.
    "AccessDenied": Backoff.SLOW,
    "OperationNotPermitted": Backoff.SLOW,
    # The configuration itself clashes with the cluster: change the spec.
    "ConfigurationConflict": None,
    "AdmissionRequestDenied": None,
    "K8sResourceNotFound": None,
    "UnsupportedAddonModification": None,
    # Infrastructure of the cluster (network, capacity): fixed outside; retry rarely.
    "SubnetNotFound": Backoff.SLOW,
    "SecurityGroupNotFound": Backoff.SLOW,
    "VpcIdNotFound": Backoff.SLOW,
    "EniLimitReached": Backoff.SLOW,
    "IpNotAvailable": Backoff.SLOW,
    "InsufficientFreeAddresses": Backoff.SLOW,
    # Transient control-plane trouble: a new association may well succeed.
    "Unknown": Backoff.SLOW,
    "ClusterUnreachable": Backoff.SLOW,
    "InsufficientNumberOfReplicas": Backoff.SLOW,
    "NodeCreationFailure": Backoff.SLOW,
    "PodEvictionFailure": Backoff.SLOW,
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
    policy = API_ERRORS.get(code, ErrorPolicy(code or reasons.EKS_ERROR, Backoff.TRANSIENT))
    if operation == STS_OPERATION and policy.reason == EKS_UNREACHABLE:
        return ErrorPolicy(reasons.STS_UNREACHABLE, policy.retry)
    return policy


def update_error_policy(code: str | None) -> ErrorPolicy:
    """The policy of a failed update's error code; unknown codes stall and retry slowly."""
    if not code:
        return ErrorPolicy(reasons.UPDATE_FAILED, Backoff.SLOW)
    return UPDATE_ERRORS.get(code, ErrorPolicy(_failed(code), Backoff.SLOW))


_MEANING: dict[Backoff | None, str] = {
    Backoff.TRANSIENT: "Reconciling=True; retried with exponential backoff and jitter (capped)",
    Backoff.SLOW: "Stalled=True; retried rarely (slow backoff), recovers once fixed outside",
    None: "Stalled=True; not retried until the spec changes",
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
