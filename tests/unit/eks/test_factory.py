"""EksClientFactory: configuration, the cache, endpoints from the environment, assume-role.

STS is a real boto3 client answered by a Stubber. For the assume-role path the EKS request
goes through botocore's real signing; a ``before-send`` hook captures the signed request and
answers it, so the test sees which credentials signed it. No network.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.credentials import CredentialResolver
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from eks_oidc_operator import __version__
from eks_oidc_operator.eks.calls import EksClient
from eks_oidc_operator.eks.factory import (
    ROLE_SESSION_NAME,
    EksClientFactory,
    assume_role_credentials,
    session_name_for,
)
from eks_oidc_operator.models import EksUpdate, OidcConfigSpec
from eks_oidc_operator.models.eks import EksError

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

ROLE = "arn:aws:iam::111122223333:role/eks-idp"
OTHER_ROLE = "arn:aws:iam::444455556666:role/eks-idp"
ASSUMED_KEY = "ASIAASSUMEDKEY0001"
ASSUMED_TOKEN = "assumed-session-token"
STS_URL = "https://sts.us-west-2.amazonaws.com/"


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
    """A base session whose STS clients are real but answered by a shared list of stubs.

    Each STS client built gets every answer queued so far, each with the exact request it
    expects (``expected``: :data:`ASSUME` unless told).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.session = _base_session()
        self.stubbers: list[Stubber] = []
        self.clients: list[STSClient] = []
        self.queue: list[tuple[str, Any, dict[str, str]]] = []
        build = self.session.client

        def client(service_name: str, **kwargs: Any) -> Any:
            made = build(service_name, **kwargs)  # type: ignore[call-overload]
            if service_name == "sts":
                stubber = Stubber(made)
                for kind, item, expected in self.queue:
                    if kind == "response":
                        stubber.add_response("assume_role", item, expected)
                    else:
                        code, message, status = item
                        stubber.add_client_error(
                            "assume_role", code, message, status, expected_params=expected
                        )
                stubber.activate()
                self.stubbers.append(stubber)
                self.clients.append(made)
            return made

        monkeypatch.setattr(self.session, "client", client)

    def respond(self, response: dict[str, Any], expected: dict[str, str] = ASSUME) -> None:
        self.queue.append(("response", response, expected))

    def refuse(
        self, code: str, message: str, status: int, expected: dict[str, str] = ASSUME
    ) -> None:
        self.queue.append(("error", (code, message, status), expected))


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


def test_the_external_id_and_the_session_name_are_part_of_the_key(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    clients = [
        factory.get("us-west-2", ROLE),
        factory.get("us-west-2", ROLE, external_id="ext-1"),
        factory.get("us-west-2", ROLE, external_id="ext-2"),
        factory.get("us-west-2", ROLE, session_name="eks-oidc.a.one"),
        factory.get("us-west-2", ROLE, session_name="eks-oidc.a.two"),
        factory.get("us-west-2", ROLE, external_id="ext-1", session_name="eks-oidc.a.one"),
    ]
    assert len({id(client) for client in clients}) == len(clients)
    again = factory.get("us-west-2", ROLE, external_id="ext-1", session_name="eks-oidc.a.one")
    assert again is clients[-1]


def test_the_default_session_name_is_the_same_key_as_none(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    named = factory.get("us-west-2", ROLE, session_name=ROLE_SESSION_NAME)
    assert named is factory.get("us-west-2", ROLE)


def test_without_a_role_the_session_name_is_ignored(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    own = factory.get("us-west-2", None)
    assert factory.get("us-west-2", None, session_name="eks-oidc.a.one") is own
    assert factory.get("us-west-2", None, session_name="x") is own  # no AssumeRole, no rule
    assert sts.clients == []


def test_an_external_id_without_a_role_is_refused() -> None:
    factory = EksClientFactory(session_factory=_base_session)
    with pytest.raises(EksError) as caught:
        factory.get("us-west-2", None, external_id="ext-1")
    assert (caught.value.code, caught.value.operation) == ("ParamValidationError", "AssumeRole")


@pytest.mark.parametrize(
    "session_name",
    ["x", "x" * 65, "", "has space", "team/a", "caf\u00e9", "a:b"],
    ids=["1-char", "65-chars", "empty", "space", "slash", "non-ascii", "colon"],
)
def test_a_session_name_sts_would_refuse_is_refused_before_anything_is_built(
    sts: StsStubs, session_name: str
) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    with pytest.raises(EksError) as caught:
        factory.get("us-west-2", ROLE, session_name=session_name)
    error = caught.value
    assert (error.code, error.operation, error.http_status) == (
        "ParamValidationError",
        "AssumeRole",
        None,
    )
    assert ROLE in error.message
    assert repr(session_name) in error.message
    assert sts.clients == []


@pytest.mark.parametrize(
    "external_id",
    ["Q", "Q" * 1225, "has space", "caf\u00e9", "semi;colon"],
    ids=["1-char", "1225-chars", "space", "non-ascii", "semicolon"],
)
def test_an_external_id_sts_would_refuse_is_refused_without_echoing_it(
    sts: StsStubs, external_id: str
) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    with pytest.raises(EksError) as caught:
        factory.get("us-west-2", ROLE, external_id=external_id)
    error = caught.value
    assert (error.code, error.operation) == ("ParamValidationError", "AssumeRole")
    assert ROLE in error.message
    assert external_id not in error.message
    assert sts.clients == []


def test_names_and_ids_at_sts_limits_are_accepted(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    for session_name in ["ab", "x" * 64, "a_b+c=d,e.f@g-h"]:
        factory.get("us-west-2", ROLE, session_name=session_name)
    for external_id in ["ab", "x" * 1224, "a_b+c=d,e.f@g-h:i/j"]:
        factory.get("us-west-2", ROLE, external_id=external_id)


def test_role_clients_share_one_data_loader_and_one_sts_client_per_region(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    clients = [
        factory.get("us-west-2", ROLE, session_name=session_name_for("team-a", "one")),
        factory.get("us-west-2", ROLE, session_name=session_name_for("team-a", "two")),
        factory.get("us-west-2", OTHER_ROLE, external_id="ext-1"),
        factory.get("eu-west-1", ROLE, session_name=session_name_for("team-b", "three")),
    ]
    # The loader caches each parsed model, so one loader means one model: the same object (its
    # "metadata" member is the model's own dict, not a copy). A loader per client parses again.
    models = {id(client.boto_client.meta.service_model.metadata) for client in clients}
    assert len(models) == 1
    assert [client.meta.region_name for client in sts.clients] == ["us-west-2", "eu-west-1"]


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
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_STS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ):
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
    sts.respond(_assumed())
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


def _sent_to_eks(client: EksClient) -> list[AWSPreparedRequest]:
    """Record (and answer with an empty 500) anything the client would send to EKS."""
    sent: list[AWSPreparedRequest] = []

    def send(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        sent.append(request)
        return _json_response(request, 500, b"{}", "ServerException")

    client.boto_client.meta.events.register("before-send.eks", send)  # type: ignore[arg-type]
    return sent


def _closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once, no network involved."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _no_credentials() -> boto3.session.Session:
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([]))
    return boto3.session.Session(botocore_session=core)


REFUSAL = (
    "User: arn:aws:iam::999999999999:user/op is not authorized to perform: "
    f"sts:AssumeRole on resource: {ROLE}"
)


def test_a_refused_assume_role_is_an_assume_role_error_naming_the_role(sts: StsStubs) -> None:
    sts.refuse("AccessDenied", REFUSAL, 403)
    client = EksClientFactory(session_factory=lambda: sts.session).get("eu-west-1", ROLE)
    sent = _sent_to_eks(client)

    with pytest.raises(EksError) as caught:
        client.describe_config("prod", "corp-sso")

    error = caught.value
    assert (error.code, error.operation, error.http_status) == ("AccessDenied", "AssumeRole", 403)
    assert error.message == f"AssumeRole of {ROLE} failed: {REFUSAL}"
    assert isinstance(error.__cause__, ClientError)
    assert sent == []  # nothing reached EKS


def test_an_unreachable_sts_is_an_assume_role_error_not_an_eks_one(
    clean_endpoint_env: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    clean_endpoint_env.setenv("AWS_ENDPOINT_URL_STS", url)
    # One attempt: botocore would otherwise retry the refused connection with backoff.
    factory = EksClientFactory(max_attempts=1, session_factory=_base_session)
    client = factory.get("eu-west-1", ROLE)
    sent = _sent_to_eks(client)

    with pytest.raises(EksError) as caught:
        client.describe_config("prod", "corp-sso")

    error = caught.value
    assert (error.code, error.operation, error.http_status) == (
        "EndpointConnectionError",
        "AssumeRole",
        None,
    )
    assert error.message == (
        f'AssumeRole of {ROLE} failed: Could not connect to the endpoint URL: "{url}/"'
    )
    assert isinstance(error.__cause__, EndpointConnectionError)
    assert sent == []


def test_a_base_session_without_credentials_is_an_assume_role_error() -> None:
    client = EksClientFactory(session_factory=_no_credentials).get("eu-west-1", ROLE)
    sent = _sent_to_eks(client)

    with pytest.raises(EksError) as caught:
        client.describe_cluster("prod")

    error = caught.value
    assert (error.code, error.operation) == ("NoCredentialsError", "AssumeRole")
    assert error.message == f"AssumeRole of {ROLE} failed: Unable to locate credentials"
    assert sent == []


@pytest.mark.parametrize(
    "failure",
    [
        EndpointConnectionError(endpoint_url=STS_URL),
        ConnectTimeoutError(endpoint_url=STS_URL),
        ReadTimeoutError(endpoint_url=STS_URL),
        ConnectionClosedError(endpoint_url=STS_URL),
        NoCredentialsError(),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_every_botocore_failure_of_assume_role_is_named_after_its_exception(
    failure: BotoCoreError,
) -> None:
    sts: STSClient = boto3.client(
        "sts", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x"
    )

    def fail(**_: object) -> None:
        raise failure

    # Raised from inside the real call path, where botocore would raise it.
    sts.meta.events.register("before-call.sts.AssumeRole", fail)
    credentials = assume_role_credentials(sts, ROLE)

    with pytest.raises(EksError) as caught:
        credentials.get_frozen_credentials()

    error = caught.value
    assert (error.code, error.operation, error.http_status) == (
        type(failure).__name__,
        "AssumeRole",
        None,
    )
    assert error.message == f"AssumeRole of {ROLE} failed: {failure}"
    assert error.__cause__ is failure


def test_after_a_failed_assume_role_the_next_call_assumes_again(sts: StsStubs) -> None:
    sts.refuse("AccessDenied", REFUSAL, 403)
    sts.respond(_assumed())
    client = EksClientFactory(session_factory=lambda: sts.session).get("eu-west-1", ROLE)
    sent = _answer_describe_cluster(client)

    with pytest.raises(EksError):
        client.describe_cluster("prod")
    assert client.describe_cluster("prod") is not None  # e.g. once the trust policy is fixed

    assert len(sent) == 1
    assert f"Credential={ASSUMED_KEY}/" in _header(sent[0], "Authorization")


def test_external_id_and_session_name_reach_the_assume_role_request(sts: StsStubs) -> None:
    session_name = session_name_for("team-a", "corp-sso")
    expected = {"RoleArn": ROLE, "RoleSessionName": session_name, "ExternalId": "ext-4f2c9a"}
    sts.respond(_assumed(), expected)  # the stub fails the call on any other request
    factory = EksClientFactory(session_factory=lambda: sts.session)
    client = factory.get("eu-west-1", ROLE, external_id="ext-4f2c9a", session_name=session_name)
    sent = _answer_describe_cluster(client)

    client.describe_cluster("prod")

    assert session_name == "eks-oidc.team-a.corp-sso"
    assert f"Credential={ASSUMED_KEY}/" in _header(sent[0], "Authorization")


def test_every_refresh_sends_the_same_session_name_and_no_external_id_unless_given() -> None:
    client: STSClient = boto3.client(
        "sts", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    expected = {"RoleArn": ROLE, "RoleSessionName": "eks-oidc.team-a.corp-sso"}
    with Stubber(client) as stubber:
        # Five minutes left: inside botocore's mandatory window, so the next use refreshes.
        stubber.add_response(
            "assume_role", _assumed("ASIAFIRST0000001", timedelta(minutes=5)), expected
        )
        stubber.add_response("assume_role", _assumed("ASIASECOND000002"), expected)
        credentials = assume_role_credentials(client, ROLE, session_name="eks-oidc.team-a.corp-sso")

        assert credentials.get_frozen_credentials().access_key == "ASIAFIRST0000001"
        assert credentials.get_frozen_credentials().access_key == "ASIASECOND000002"
        stubber.assert_no_pending_responses()


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


def test_a_failed_refresh_before_the_credentials_must_be_replaced_keeps_them() -> None:
    client: STSClient = boto3.client(
        "sts", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        # Twelve minutes left: inside botocore's advisory window (15), not its mandatory (10).
        stubber.add_response("assume_role", _assumed("ASIAFIRST0000001", timedelta(minutes=12)))
        stubber.add_client_error("assume_role", "Throttling", "Rate exceeded", 400)
        credentials = assume_role_credentials(client, ROLE)

        assert credentials.get_frozen_credentials().access_key == "ASIAFIRST0000001"
        # The refresh fails (logged by botocore), and the still-valid credentials sign on.
        assert credentials.get_frozen_credentials().access_key == "ASIAFIRST0000001"
        stubber.assert_no_pending_responses()


# --- Session names -----------------------------------------------------------------------

STS_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)


def test_a_session_name_reads_as_the_object_it_is_for() -> None:
    assert session_name_for("team-a", "corp-sso") == "eks-oidc.team-a.corp-sso"
    assert session_name_for("default", "idp.v2") == "eks-oidc.default.idp.v2"


@pytest.mark.parametrize(
    ("namespace", "name"),
    [
        ("n" * 63, "m" * 253),  # Kubernetes' own maxima
        ("team-a", "x" * 55),  # one character past 64
        ("team a", "corp/sso"),
        ("caf\u00e9", "\u65e5\u672c"),
        ("", ""),
        ("a", ""),
    ],
    ids=["k8s-maxima", "65-chars", "refused-characters", "non-ascii", "empty", "empty-name"],
)
def test_a_session_name_is_always_valid_for_sts(namespace: str, name: str) -> None:
    made = session_name_for(namespace, name)
    assert STS_SESSION_NAME.fullmatch(made)
    assert made.startswith("eks-oidc.")
    assert made == session_name_for(namespace, name)  # deterministic


def test_a_name_too_long_keeps_a_readable_prefix_and_ends_in_a_digest() -> None:
    made = session_name_for("team-a", "corp-sso-" + "x" * 200)
    assert len(made) == 64
    assert made.startswith("eks-oidc.team-a.corp-sso-xxx")
    assert re.fullmatch(r".*_[0-9a-f]{16}", made)


def test_two_objects_never_share_a_session_name() -> None:
    long = "y" * 100
    digested = session_name_for("ns", "x" * 100)
    pairs = [
        ("a", "b.c"),
        ("a.b", "c"),  # the dot moved between namespace and name
        ("a/b", "c"),
        ("a-b", "c"),  # what a/b would read as once "/" is replaced
        ("a", "b/c"),
        ("ns", long + "1"),
        ("ns", long + "2"),  # the same 47 readable characters
        ("ns", "x" * 100),
        # A plain-looking name spelled like another object's digested one.
        ("ns", digested.removeprefix("eks-oidc.ns.")),
        ("", ""),
        ("", "a"),
        ("a", ""),
    ]
    made = [session_name_for(namespace, name) for namespace, name in pairs]
    assert len(set(made)) == len(pairs)
    assert all(STS_SESSION_NAME.fullmatch(name) for name in made)


def test_the_factory_accepts_every_session_name_it_is_given_by_the_helper(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session)
    for namespace, name in [("team-a", "corp-sso"), ("n" * 63, "m" * 253), ("a b", "c/d")]:
        factory.get("us-west-2", ROLE, session_name=session_name_for(namespace, name))


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


# --- Bounded caches --------------------------------------------------------------------------


def test_clients_are_bounded_least_recently_used_first_out(sts: StsStubs) -> None:
    factory = EksClientFactory(session_factory=lambda: sts.session, max_clients=2)
    first = factory.get("eu-west-1", None)
    second = factory.get("us-east-1", None)
    assert factory.get("eu-west-1", None) is first  # now the most recently used
    factory.get("us-west-2", None)  # a third: the least recently used (us-east-1) goes
    assert factory.get("eu-west-1", None) is first
    assert factory.get("us-east-1", None) is not second  # rebuilt on its next use


def test_a_rebuilt_role_client_signs_with_the_credentials_it_had(sts: StsStubs) -> None:
    """The role's credentials outlive an evicted client: no second AssumeRole (the stub holds
    one answer, and fails on a second call)."""
    sts.respond(_assumed())
    factory = EksClientFactory(session_factory=lambda: sts.session, max_clients=1)
    client = factory.get("eu-west-1", ROLE)
    _answer_describe_cluster(client)
    client.describe_cluster("prod")  # the one AssumeRole
    factory.get("us-east-1", None)  # evicts the role's client
    rebuilt = factory.get("eu-west-1", ROLE)
    assert rebuilt is not client
    sent = _answer_describe_cluster(rebuilt)
    rebuilt.describe_cluster("prod")
    assert f"Credential={ASSUMED_KEY}/" in _header(sent[0], "Authorization")
