"""The error policy table: each code maps as docs/errors.md says, and the doc is current."""

from __future__ import annotations

import pytest

from eks_oidc_operator.reconcile.error_policy import (
    Retry,
    api_error_policy,
    markdown_table,
    update_error_policy,
)
from eks_oidc_testing.paths import REPO


@pytest.mark.parametrize(
    ("code", "reason", "retry"),
    [
        ("ResourceInUseException", "ClusterUpdateInProgress", Retry.BACKOFF),
        ("ResourceNotFoundException", "ClusterNotFound", Retry.BACKOFF),
        ("InvalidParameterException", "InvalidParameterException", Retry.NEVER),
        ("InvalidRequestException", "InvalidRequestException", Retry.BACKOFF),
        ("ThrottlingException", "ThrottlingException", Retry.BACKOFF),
        ("TooManyRequestsException", "ThrottlingException", Retry.BACKOFF),
        ("ServerException", "ServerException", Retry.BACKOFF),
        ("ServiceUnavailableException", "ServiceUnavailableException", Retry.BACKOFF),
        ("AccessDeniedException", "AccessDeniedException", Retry.SLOW),
        ("NoCredentialsError", "NoCredentials", Retry.SLOW),
        ("ExpiredTokenException", "CredentialsInvalid", Retry.SLOW),
        ("EndpointConnectionError", "EksUnreachable", Retry.BACKOFF),
        ("SomethingNew", "SomethingNew", Retry.BACKOFF),
    ],
)
def test_api_errors_map_to_reason_and_retry(code: str, reason: str, retry: Retry) -> None:
    policy = api_error_policy(code)
    assert (policy.reason, policy.retry) == (reason, retry)
    assert policy.stalled == (retry is not Retry.BACKOFF)


@pytest.mark.parametrize(
    ("code", "reason", "retry"),
    [
        ("ConfigurationConflict", "UpdateFailedConfigurationConflict", Retry.NEVER),
        ("AccessDenied", "UpdateFailedAccessDenied", Retry.SLOW),
        ("Unknown", "UpdateFailedUnknown", Retry.SLOW),
        ("ClusterUnreachable", "UpdateFailedClusterUnreachable", Retry.SLOW),
        (None, "UpdateFailed", Retry.SLOW),
        ("BrandNewCode", "UpdateFailedBrandNewCode", Retry.SLOW),
    ],
)
def test_failed_update_codes_always_stall(code: str | None, reason: str, retry: Retry) -> None:
    policy = update_error_policy(code)
    assert (policy.reason, policy.retry) == (reason, retry)
    assert policy.stalled


def test_the_documented_table_is_the_implemented_one() -> None:
    doc = (REPO / "docs" / "errors.md").read_text()
    begin, end = "<!-- BEGIN GENERATED TABLE -->\n", "<!-- END GENERATED TABLE -->"
    generated = doc[doc.index(begin) + len(begin) : doc.index(end)]
    assert generated == markdown_table(), "docs/errors.md is stale: regenerate the table"


def test_a_network_failure_on_the_way_to_sts_is_not_called_eks_unreachable() -> None:
    for code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        assert api_error_policy(code, "AssumeRole").reason == "StsUnreachable"
        assert api_error_policy(code, "DescribeCluster").reason == "EksUnreachable"
        assert not api_error_policy(code, "AssumeRole").stalled
    assert api_error_policy("AccessDenied", "AssumeRole").reason == "AccessDenied"
