"""EksClientFactory: configuration, the cache, endpoints from the environment, assume-role.

STS is a real boto3 client answered by a Stubber. For the assume-role path the EKS request
goes through botocore's real signing; a ``before-send`` hook captures the signed request and
answers it, so the test sees which credentials signed it. No network.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.stub import Stubber

from eks_oidc_operator import __version__
from eks_oidc_operator.eks.calls import EksClient
from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.eks.factory import (
    ROLE_SESSION_NAME,
    EksClientFactory,
    assume_role_credentials,
)
from eks_oidc_operator.models import EksUpdate, OidcConfigSpec

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

ROLE = "arn:aws:iam::111122223333:role/eks-idp"
OTHER_ROLE = "arn:aws:iam::444455556666:role/eks-idp"
ASSUMED_KEY = "ASIAASSUMEDKEY0001"
ASSUMED_TOKEN = "assumed-session-token"


def _base_session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="BASEKEY", aws_secret_access_key="base")


def _assumed(key: str = ASSUMED_KEY, expires_in: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": key,
            "SecretAccessKey": "assumed-secret",
            "SessionToken": ASSUMED_TOKEN,
            "Expiration": datetime.now(UTC) + expires_in,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROAEXAMPLE:eks-oidc-operator",
            "Arn": "arn:aws:sts::111122223333:assumed-role/eks-idp/eks-oidc-operator",
        },
    }


ASSUME = {"RoleArn": ROLE, "RoleSessionName": ROLE_SESSION_NAME}


class StsStubs:
    """A base session whose STS clients are real but answered by a shared list of stubs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.session = _base_session()
        self.stubbers: list[Stubber] = []
        self.clients: list[STSClient] = []
        self.queue: list[tuple[str, Any]] = []
        build = self.session.client

        def client(service_name: str, **kwargs: Any) -> Any:
            made = build(service_name, **kwargs)  # type: ignore[call-overload]
            if service_name == "sts":
                stubber = Stubber(made)
                for kind, item in self.queue:
                    if kind == "response":
                        stubber.add_response("assume_role", item, ASSUME)
                    else:
                        code, message, status = item
                        stubber.add_client_error(
                            "assume_role", code, message, status, expected_params=ASSUME
                        )
                stubber.activate()
                self.stubbers.append(stubber)
                self.clients.append(made)
            return made

        monkeypatch.setattr(self.session, "client", client)


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[StsStubs]:
    stubs = StsStubs(monkeypatch)
    yield stubs
    for stubber in stubs.stubbers:
        stubber.assert_no_pending_responses()


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object) -> Iterator[bytes]:
        yield self._body


def _json_response(
    request: AWSPreparedRequest, status: int, body: bytes, error_type: str | None = None
) -> AWSResponse:
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/json"
    headers["x-amzn-RequestId"] = "r-1"
    if error_type is not None:
        headers["x-amzn-ErrorType"] = error_type
    return AWSResponse(request.url, status, headers, _Body(body))


def _answer_describe_cluster(client: EksClient) -> list[AWSPreparedRequest]:
    """Answer DescribeCluster locally after botocore has signed it; return what was sent."""
    sent: list[AWSPreparedRequest] = []

    def send(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        sent.append(request)
        body = b'{"cluster": {"name": "prod", "status": "ACTIVE", "version": "1.32"}}'
        return _json_response(request, 200, body)

    # The stubs type handlers as returning None; a before-send handler returns the response.
    client.boto_client.meta.events.register(
        "before-send.eks.DescribeCluster",
        send,  # type: ignore[arg-type]
    )
    return sent


def _settings(config: Config) -> dict[str, Any]:
    # botocore sets Config's options as instance attributes the stubs do not declare.
    return vars(config)


def _header(request: AWSPreparedRequest, name: str) -> str:
    value = request.headers[name]
    return value.decode() if isinstance(value, bytes) else str(value)


# --- Configuration -----------------------------------------------------------------------


def test_clients_carry_standard_retries_attempts_timeouts_and_the_operator_user_agent() -> None:
    factory = EksClientFactory(
        max_attempts=5,
        connect_timeout=2,
        read_timeout=7,
        session_factory=_base_session,
    )
    config = _settings(factory.get("us-west-2", None).boto_client.meta.config)
    assert config["retries"] == {"mode": "standard", "total_max_attempts": 5}
    assert (config["connect_timeout"], config["read_timeout"]) == (2, 7)
    assert config["user_agent_extra"] == f"eks-oidc-operator/{__version__}"


def test_the_defaults_are_standard_retries_with_three_attempts() -> None:
    config = _settings(EksClientFactory(session_factory=_base_session).config)
    assert config["retries"] == {"mode": "standard", "total_max_attempts": 3}
    assert (config["connect_timeout"], config["read_timeout"]) == (5, 30)


def test_the_client_is_built_for_the_requested_region() -> None:
    client = EksClientFactory(session_factory=_base_session).get("eu-west-1", None)
    assert client.boto_client.meta.region_name == "eu-west-1"
    assert client.boto_client.meta.endpoint_url == "https://eks.eu-west-1.amazonaws.com"


def test_a_region_botocore_cannot_use_is_an_eks_error_from_get() -> None:
    with pytest.raises(EksError) as caught:
        EksClientFactory(session_factory=_base_session).get("not a region!", None)
    assert (caught.value.code, caught.value.operation) == ("InvalidRegionError", "CreateClient")


# --- Cache -------------------------------------------------------------------------------


def test_the_same_region_and_role_give_the_same_client(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    assert factory.get("us-west-2", None) is factory.get("us-west-2", None)
    assert factory.get("us-west-2", ROLE) is factory.get("us-west-2", ROLE)


def test_another_region_or_role_gives_another_client(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    clients = [
        factory.get("us-west-2", None),
        factory.get("eu-west-1", None),
        factory.get("us-west-2", ROLE),
        factory.get("us-west-2", OTHER_ROLE),
        factory.get("eu-west-1", ROLE),
    ]
    assert len({id(client) for client in clients}) == len(clients)
    assert len({id(client.boto_client) for client in clients}) == len(clients)


def test_the_base_session_is_made_once_and_only_when_first_needed() -> None:
    made: list[boto3.session.Session] = []

    def session_factory() -> boto3.session.Session:
        made.append(_base_session())
        return made[-1]

    factory = EksClientFactory(session_factory=session_factory)
    assert made == []
    factory.get("us-west-2", None)
    factory.get("eu-west-1", None)
    assert len(made) == 1


def test_threads_asking_at_once_all_get_one_client() -> None:
    factory = EksClientFactory(session_factory=_base_session)
    barrier = threading.Barrier(8)
    got: list[EksClient] = []

    def ask() -> None:
        barrier.wait()
        got.append(factory.get("us-west-2", None))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8
    assert all(client is got[0] for client in got)


# --- Endpoints from the environment ------------------------------------------------------


@pytest.fixture
def clean_endpoint_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EKS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("role", [None, ROLE], ids=["own-credentials", "assumed-role"])
def test_aws_endpoint_url_eks_points_the_client_at_another_endpoint(
    clean_endpoint_env: pytest.MonkeyPatch, role: str | None
) -> None:
    clean_endpoint_env.setenv("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:4566")
    client = EksClientFactory(session_factory=_base_session).get("us-west-2", role)
    assert client.boto_client.meta.endpoint_url == "http://127.0.0.1:4566"


def test_aws_endpoint_url_points_the_client_at_another_endpoint(
    clean_endpoint_env: pytest.MonkeyPatch,
) -> None:
    clean_endpoint_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4567")
    client = EksClientFactory(session_factory=_base_session).get("us-west-2", None)
    assert client.boto_client.meta.endpoint_url == "http://127.0.0.1:4567"


# --- Assume role -------------------------------------------------------------------------


def test_building_a_client_for_a_role_calls_nothing_until_the_first_eks_call(sts: StsStubs) -> None:
    EksClientFactory(session_factory=lambda: sts.session).get("eu-west-1", ROLE)
    assert len(sts.clients) == 1  # built, but the (empty) stub proves AssumeRole was not called


def test_a_role_client_signs_with_credentials_assumed_through_sts_in_the_same_region(
    sts: StsStubs,
) -> None:
    sts.queue.append(("response", _assumed()))
    client = EksClientFactory(session_factory=lambda: sts.session).get("eu-west-1", ROLE)
    sent = _answer_describe_cluster(client)

    cluster = client.describe_cluster("prod")

    assert cluster is not None
    assert cluster.status == "ACTIVE"
    assert [c.meta.region_name for c in sts.clients] == ["eu-west-1"]
    assert len(sent) == 1
    assert f"Credential={ASSUMED_KEY}/" in _header(sent[0], "Authorization")
    assert "/eu-west-1/eks/aws4_request" in _header(sent[0], "Authorization")
    assert _header(sent[0], "X-Amz-Security-Token") == ASSUMED_TOKEN


def test_a_client_without_a_role_signs_with_the_base_credentials(sts: StsStubs) -> None:
    client = EksClientFactory(session_factory=lambda: sts.session).get("us-west-2", None)
    sent = _answer_describe_cluster(client)
    client.describe_cluster("prod")
    assert "Credential=BASEKEY/" in _header(sent[0], "Authorization")
    assert sts.clients == []


def test_a_refused_assume_role_is_sts_code_on_the_eks_operation(sts: StsStubs) -> None:
    message = (
        "User: arn:aws:iam::999999999999:user/op is not authorized to perform: "
        f"sts:AssumeRole on resource: {ROLE}"
    )
    sts.queue.append(("error", ("AccessDenied", message, 403)))
    client = EksClientFactory(session_factory=lambda: sts.session).get("eu-west-1", ROLE)
    sent = _answer_describe_cluster(client)

    with pytest.raises(EksError) as caught:
        client.describe_cluster("prod")

    error = caught.value
    assert (error.code, error.operation, error.http_status) == (
        "AccessDenied",
        "DescribeCluster",
        403,
    )
    assert error.message == f"AssumeRole: {message}"
    assert sent == []  # nothing reached EKS


def test_assumed_credentials_are_refreshed_when_they_are_about_to_expire() -> None:
    client: STSClient = boto3.client(
        "sts", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        # Five minutes left is inside botocore's mandatory refresh window (10 minutes).
        stubber.add_response(
            "assume_role", _assumed("ASIAFIRST0000001", timedelta(minutes=5)), ASSUME
        )
        stubber.add_response(
            "assume_role", _assumed("ASIASECOND000002", timedelta(hours=1)), ASSUME
        )
        credentials = assume_role_credentials(client, ROLE)

        assert credentials.get_frozen_credentials().access_key == "ASIAFIRST0000001"
        assert credentials.get_frozen_credentials().access_key == "ASIASECOND000002"
        # The new credentials last an hour: no third AssumeRole (the stub would refuse it).
        assert credentials.get_frozen_credentials().access_key == "ASIASECOND000002"
        stubber.assert_no_pending_responses()


# --- botocore's retries, as configured ---------------------------------------------------

ASSOCIATED = (
    b'{"update": {"id": "u-1", "status": "InProgress", '
    b'"type": "AssociateIdentityProviderConfig", "createdAt": 1712857609.648, '
    b'"params": [{"type": "IdentityProviderConfig", '
    b'"value": "[{\\"type\\":\\"oidc\\",\\"name\\":\\"corp-sso\\"}]"}], "errors": []}, '
    b'"tags": {}}'
)


def _answer_associate(
    client: EksClient, failures: list[tuple[int, str]]
) -> list[AWSPreparedRequest]:
    """Answer AssociateIdentityProviderConfig with ``failures`` first, then success."""
    sent: list[AWSPreparedRequest] = []

    def send(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        sent.append(request)
        if len(sent) <= len(failures):
            status, code = failures[len(sent) - 1]
            return _json_response(request, status, b'{"message": "words of EKS"}', code)
        return _json_response(request, 200, ASSOCIATED)

    client.boto_client.meta.events.register(
        "before-send.eks.AssociateIdentityProviderConfig",
        send,  # type: ignore[arg-type]
    )
    return sent


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record botocore's retry sleeps instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


def _associate(client: EksClient) -> EksUpdate:
    oidc = OidcConfigSpec(issuer_url="https://login.example.com", client_id="kubernetes")
    return client.associate("prod", "corp-sso", oidc, {}, "uid-1-gen-1")


def _tokens(sent: list[AWSPreparedRequest]) -> set[str]:
    bodies = [request.body for request in sent]
    assert all(isinstance(body, (bytes, str)) for body in bodies)
    return {json.loads(cast("bytes | str", body))["clientRequestToken"] for body in bodies}


def test_throttles_are_retried_by_botocore_with_the_same_token_before_we_see_them(
    no_backoff: list[float],
) -> None:
    client = EksClientFactory(session_factory=_base_session).get("us-west-2", None)
    sent = _answer_associate(
        client, [(429, "ThrottlingException"), (503, "ServiceUnavailableException")]
    )

    update = _associate(client)

    assert update.id == "u-1"
    assert len(sent) == 3
    assert _tokens(sent) == {"uid-1-gen-1"}
    assert len(no_backoff) == 2


def test_throttling_beyond_max_attempts_is_an_eks_error_after_exactly_that_many_requests(
    no_backoff: list[float],
) -> None:
    client = EksClientFactory(max_attempts=2, session_factory=_base_session).get("us-west-2", None)
    sent = _answer_associate(client, [(429, "ThrottlingException")] * 5)

    with pytest.raises(EksError) as caught:
        _associate(client)

    assert (caught.value.code, caught.value.http_status) == ("ThrottlingException", 429)
    assert caught.value.message == "words of EKS"
    assert len(sent) == 2


def test_a_busy_cluster_409_is_not_retried_by_botocore(no_backoff: list[float]) -> None:
    client = EksClientFactory(session_factory=_base_session).get("us-west-2", None)
    sent = _answer_associate(client, [(409, "ResourceInUseException")])

    with pytest.raises(EksError) as caught:
        _associate(client)

    assert (caught.value.code, caught.value.http_status) == ("ResourceInUseException", 409)
    assert len(sent) == 1
    assert no_backoff == []
