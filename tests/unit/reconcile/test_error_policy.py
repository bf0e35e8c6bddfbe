"""The error policy table: each code maps as docs/errors.md says, and the doc is current."""

from __future__ import annotations

import pytest

from eks_oidc_operator.reconcile.error_policy import (
    api_error_policy,
    update_error_policy,
)
from eks_oidc_operator.reconcile.timing import Backoff


@pytest.mark.parametrize(
    ("code", "reason", "retry"),
    [
        ("ResourceInUseException", "ClusterUpdateInProgress", Backoff.TRANSIENT),
        ("ResourceNotFoundException", "ClusterNotFound", Backoff.TRANSIENT),
        ("InvalidParameterException", "InvalidParameterException", None),
        ("InvalidRequestException", "InvalidRequestException", Backoff.TRANSIENT),
        ("ThrottlingException", "ThrottlingException", Backoff.TRANSIENT),
        ("TooManyRequestsException", "ThrottlingException", Backoff.TRANSIENT),
        ("ServerException", "ServerException", Backoff.TRANSIENT),
        ("ServiceUnavailableException", "ServiceUnavailableException", Backoff.TRANSIENT),
        ("AccessDeniedException", "AccessDeniedException", Backoff.SLOW),
        ("NoCredentialsError", "NoCredentials", Backoff.SLOW),
        ("ExpiredTokenException", "CredentialsInvalid", Backoff.SLOW),
        ("EndpointConnectionError", "EksUnreachable", Backoff.TRANSIENT),
        ("SomethingNew", "SomethingNew", Backoff.TRANSIENT),
    ],
)
def test_api_errors_map_to_reason_and_retry(code: str, reason: str, retry: Backoff | None) -> None:
    policy = api_error_policy(code)
    assert (policy.reason, policy.retry) == (reason, retry)
    assert policy.stalled == (retry is not Backoff.TRANSIENT)


@pytest.mark.parametrize(
    ("code", "reason", "retry"),
    [
        ("ConfigurationConflict", "UpdateFailedConfigurationConflict", None),
        ("AccessDenied", "UpdateFailedAccessDenied", Backoff.SLOW),
        ("Unknown", "UpdateFailedUnknown", Backoff.SLOW),
        ("ClusterUnreachable", "UpdateFailedClusterUnreachable", Backoff.SLOW),
        (None, "UpdateFailed", Backoff.SLOW),
        ("BrandNewCode", "UpdateFailedBrandNewCode", Backoff.SLOW),
    ],
)
def test_failed_update_codes_always_stall(
    code: str | None, reason: str, retry: Backoff | None
) -> None:
    policy = update_error_policy(code)
    assert (policy.reason, policy.retry) == (reason, retry)
    assert policy.stalled


def test_a_network_failure_on_the_way_to_sts_is_not_called_eks_unreachable() -> None:
    for code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        assert api_error_policy(code, "AssumeRole").reason == "StsUnreachable"
        assert api_error_policy(code, "DescribeCluster").reason == "EksUnreachable"
        assert not api_error_policy(code, "AssumeRole").stalled
    assert api_error_policy("AccessDenied", "AssumeRole").reason == "AccessDenied"
