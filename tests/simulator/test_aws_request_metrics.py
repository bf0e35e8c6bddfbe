"""The AWS-call metrics see what EKS saw: every HTTP attempt, botocore's own retries included,
counted through the factory's observer against the simulator over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from eks_oidc_operator.eks.factory import EksClientFactory
from eks_oidc_operator.eks.telemetry import AwsResponse
from eks_oidc_testing.simulator import SimulatorHandle


@pytest.fixture
def endpoint(sim: SimulatorHandle) -> Iterator[str]:
    saved = os.environ.get("AWS_ENDPOINT_URL_EKS")
    os.environ["AWS_ENDPOINT_URL_EKS"] = sim.url
    try:
        yield sim.url
    finally:
        if saved is None:
            os.environ.pop("AWS_ENDPOINT_URL_EKS", None)
        else:
            os.environ["AWS_ENDPOINT_URL_EKS"] = saved


def test_a_throttled_call_botocore_retried_counts_as_two_attempts(
    sim: SimulatorHandle, endpoint: str
) -> None:
    seen: list[AwsResponse] = []
    factory = EksClientFactory(
        session_factory=lambda: boto3.session.Session(
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
        ),
        observer=seen.append,
    )
    sim.create_cluster("prod", "1.33")
    sim.faults({"kind": "throttle", "operation": "DescribeCluster", "count": 1})
    client = factory.get("us-west-2", None)
    assert client.describe_cluster("prod") is not None
    assert client.describe_config("prod", "absent") is None
    assert [(r.operation, r.status, r.code, r.retry) for r in seen] == [
        ("DescribeCluster", "429", "ThrottlingException", False),
        ("DescribeCluster", "200", "", True),
        ("DescribeIdentityProviderConfig", "404", "ResourceNotFoundException", False),
    ]
    assert {r.service for r in seen} == {"eks"}
