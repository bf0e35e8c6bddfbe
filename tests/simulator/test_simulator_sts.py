"""STS's AssumeRole on the simulator's port, through boto3's real STS client (query protocol, XML).

What the operator relies on: the success shape botocore parses into credentials, STS's own
validation of the session name and external id, the AccessDenied a refusing trust policy
gives, and a journal that shows what reached STS and which role signed the EKS calls after.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from eks_oidc_testing.simulator import SimulatorError, SimulatorHandle

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

ROLE = "arn:aws:iam::111111111111:role/eks-oidc-operator-team-a"
OTHER_ROLE = "arn:aws:iam::222222222222:role/eks-oidc-operator-team-b"
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
DENIED = (
    "User: arn:aws:iam::123456789012:user/AKIDSIMULATOR is not authorized to perform: "
    f"sts:AssumeRole on resource: {ROLE}"
)


@pytest.fixture
def sts(sim: SimulatorHandle) -> STSClient:
    return sim.sts_client()


def refusal(sts: STSClient, **request: Any) -> tuple[int, str, str]:
    """(HTTP status, code, message) of an AssumeRole that must fail."""
    with pytest.raises(ClientError) as caught:
        sts.assume_role(**request)
    error = caught.value.response
    return (
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Code"],
        error["Error"]["Message"],
    )


def raw_sts(sim: SimulatorHandle, form: dict[str, str]) -> tuple[int, dict[str, str], ET.Element]:
    """(status, headers, parsed XML) of a hand-made STS call: what botocore would not send."""
    request = urllib.request.Request(  # noqa: S310 - the simulator's own loopback URL
        sim.url + "/",
        data=urlencode(form).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    # The XML is our own simulator's (S314 is about documents from strangers).
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310
            status, headers, body = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            status, headers, body = error.code, dict(error.headers), error.read()
    return status, headers, ET.fromstring(body)  # noqa: S314


# ---------------------------------------------------------------- success


def test_assume_role_returns_the_roles_credentials_as_botocore_parses_them(
    sim: SimulatorHandle, sts: STSClient
) -> None:
    response = sts.assume_role(
        RoleArn=ROLE, RoleSessionName="eks-oidc.team-a.corp", ExternalId="team-a-7f3c"
    )
    credentials = response["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40
    assert credentials["SessionToken"]
    # The default hour, on the simulated clock.
    assert credentials["Expiration"].timestamp() == pytest.approx(sim.now() + 3600, abs=1)
    user = response["AssumedRoleUser"]
    assert user["Arn"] == (
        "arn:aws:sts::111111111111:assumed-role/eks-oidc-operator-team-a/eks-oidc.team-a.corp"
    )
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:eks-oidc\.team-a\.corp", user["AssumedRoleId"])
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    shape = sts.meta.service_model.operation_model("AssumeRole").output_shape
    assert shape is not None
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


def test_each_assume_role_issues_new_keys_for_the_same_role_id(sts: STSClient) -> None:
    first = sts.assume_role(RoleArn=ROLE, RoleSessionName="one", DurationSeconds=900)
    second = sts.assume_role(RoleArn=ROLE, RoleSessionName="two")
    assert first["Credentials"]["AccessKeyId"] != second["Credentials"]["AccessKeyId"]
    role_id = first["AssumedRoleUser"]["AssumedRoleId"].split(":")[0]
    assert second["AssumedRoleUser"]["AssumedRoleId"] == f"{role_id}:two"
    assert (
        second["Credentials"]["Expiration"] - first["Credentials"]["Expiration"]
    ).total_seconds() == pytest.approx(2700, abs=1)


def test_a_role_with_a_path_keeps_only_its_name_in_the_session_arn(sts: STSClient) -> None:
    response = sts.assume_role(
        RoleArn="arn:aws:iam::111111111111:role/platform/eks/operator", RoleSessionName="s1"
    )
    assert response["AssumedRoleUser"]["Arn"] == (
        "arn:aws:sts::111111111111:assumed-role/operator/s1"
    )


def test_the_standard_variable_points_boto3s_sts_at_it(
    sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sim.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "anything")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "anything")
    client = boto3.client("sts", region_name="eu-west-1")
    assert client.assume_role(RoleArn=ROLE, RoleSessionName="env")["Credentials"]
    assert sim.count("AssumeRole", 200) == 1


# ---------------------------------------------------------------- journal


def test_every_assume_role_is_journaled_with_what_was_sent(
    sim: SimulatorHandle, sts: STSClient
) -> None:
    sts.assume_role(RoleArn=ROLE, RoleSessionName="eks-oidc.a.b", ExternalId="team-a-7f3c")
    refusal(sts, RoleArn=ROLE, RoleSessionName="not valid")
    calls = sim.requests("AssumeRole")
    assert [
        (c["status"], c["role_arn"], c["role_session_name"], c["external_id"]) for c in calls
    ] == [
        (200, ROLE, "eks-oidc.a.b", "team-a-7f3c"),
        (400, ROLE, "not valid", None),
    ]
    assert {c["access_key_id"] for c in calls} == {"AKIDSIMULATOR"}
    assert all(c["cluster"] is None for c in calls)
    assert sim.stats()["operations"] == {"AssumeRole": {"200": 1, "400": 1}}


def test_eks_calls_signed_with_issued_credentials_name_the_role_session(
    sim: SimulatorHandle, sts: STSClient
) -> None:
    sim.create_cluster("c")
    issued = sts.assume_role(RoleArn=ROLE, RoleSessionName="eks-oidc.a.b")["Credentials"]
    as_role = sim.boto3_client(credentials=issued)
    as_role.describe_cluster(name="c")
    sim.boto3_client().describe_cluster(name="c")
    signed_as_role, signed_otherwise = sim.requests("DescribeCluster")
    assert signed_as_role["access_key_id"] == issued["AccessKeyId"]
    assert (signed_as_role["role_arn"], signed_as_role["role_session_name"]) == (
        ROLE,
        "eks-oidc.a.b",
    )
    assert signed_otherwise["access_key_id"] == "AKIDSIMULATOR"
    assert signed_otherwise["role_arn"] is None
    # A reset forgets the sessions: the same keys sign anonymously again.
    sim.reset()
    sim.create_cluster("c")
    as_role.describe_cluster(name="c")
    assert sim.requests("DescribeCluster")[0]["role_arn"] is None


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            {"RoleSessionName": "eks oidc"},
            "1 validation error detected: Value 'eks oidc' at 'roleSessionName' failed to "
            r"satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ),
        (
            # STS's \w is ASCII: a letter Python would call a word character is refused.
            {"RoleSessionName": "café"},
            "Value 'café' at 'roleSessionName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern",
        ),
        (
            {"RoleSessionName": "s" * 65},
            f"Value '{'s' * 65}' at 'roleSessionName' failed to satisfy constraint: Member "
            "must have length less than or equal to 64",
        ),
        (
            {"ExternalId": "team a"},
            "Value 'team a' at 'externalId' failed to satisfy constraint: Member must satisfy "
            r"regular expression pattern: [\w+=,.@:\/-]*",
        ),
        (
            {"ExternalId": "x" * 1225},
            "at 'externalId' failed to satisfy constraint: Member must have length less than "
            "or equal to 1224",
        ),
        (
            {"RoleSessionName": "a b", "ExternalId": "c d"},
            "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value "
            "'c d' at 'externalId'",
        ),
        (
            {"DurationSeconds": 43201},
            "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have "
            "value less than or equal to 43200",
        ),
    ],
    ids=[
        "session-space",
        "session-non-ascii",
        "session-65",
        "external-id-space",
        "external-id-1225",
        "two-at-once",
        "duration-43201",
    ],
)
def test_sts_validation_refuses_what_sts_refuses(
    sim: SimulatorHandle, sts: STSClient, request_: dict[str, Any], expected: str
) -> None:
    status, code, message = refusal(sts, **{"RoleArn": ROLE, "RoleSessionName": "ok", **request_})
    assert (status, code) == (400, "ValidationError")
    assert expected in message
    assert sim.count("AssumeRole", 400) == 1  # a 400 is never retried


def test_what_is_valid_at_the_edges_is_accepted(sts: STSClient) -> None:
    """The longest names and every character STS's patterns allow."""
    sts.assume_role(
        RoleArn=ROLE,
        RoleSessionName="A_z0+=,.@-" + "s" * 54,
        ExternalId="A_z0+=,.@:/-" + "e" * 1212,
        DurationSeconds=3600,
    )


def test_the_minimums_botocore_leaves_to_sts_are_checked_too(sim: SimulatorHandle) -> None:
    """botocore refuses short values before sending; another client may not."""
    status, _, error = raw_sts(
        sim,
        {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": ROLE,
            "RoleSessionName": "x",
            "ExternalId": "",
            "DurationSeconds": "899",
        },
    )
    assert status == 400
    assert error.findtext(f"{NS}Error/{NS}Code") == "ValidationError"
    message = error.findtext(f"{NS}Error/{NS}Message") or ""
    assert message.startswith("3 validation errors detected: ")
    assert (
        "Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length "
        "greater than or equal to 2"
    ) in message
    assert "Value '' at 'externalId'" in message
    assert "Member must have value greater than or equal to 900" in message


def test_required_members_must_be_there(sim: SimulatorHandle) -> None:
    status, _, error = raw_sts(sim, {"Action": "AssumeRole", "Version": "2011-06-15"})
    assert status == 400
    assert error.findtext(f"{NS}Error/{NS}Message") == (
        "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: "
        "Member must not be null; Value null at 'roleSessionName' failed to satisfy "
        "constraint: Member must not be null"
    )


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::111111111111:user/eks-oidc-operator",
        "arn:aws:iam:111111111111:role/eks-oidc-operator",
        "arn:aws:iam::11111111111:role/eks-oidc-operator",
        "arn:aws:sts::111111111111:role/eks-oidc-operator",
        "arn:aws:iam::111111111111:role/",
        "eks-oidc-operator-team-a-role",
    ],
)
def test_a_role_arn_that_is_no_roles_arn_is_invalid(sts: STSClient, role_arn: str) -> None:
    assert refusal(sts, RoleArn=role_arn, RoleSessionName="ok") == (
        400,
        "ValidationError",
        "Request ARN is invalid",
    )


def test_a_duration_above_the_roles_max_session_is_invalid(sts: STSClient) -> None:
    assert refusal(sts, RoleArn=ROLE, RoleSessionName="ok", DurationSeconds=3601) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )


# ---------------------------------------------------------------- refusals


def test_a_denied_role_gets_access_denied_until_the_faults_are_cleared(
    sim: SimulatorHandle, sts: STSClient
) -> None:
    added = sim.faults({"kind": "deny-assume-role", "roleArn": ROLE})
    assert added == [{"kind": "deny-assume-role", "roleArn": ROLE}]
    for _ in range(2):
        assert refusal(sts, RoleArn=ROLE, RoleSessionName="ok") == (403, "AccessDenied", DENIED)
    # Only that role: the trust of another is untouched.
    sts.assume_role(RoleArn=OTHER_ROLE, RoleSessionName="ok")
    assert sim.active_faults()["assumeRole"] == added
    # botocore does not retry a 403: what reached STS is one call per attempt made.
    assert sim.count("AssumeRole", 403) == 2
    sim.clear_faults()
    assert sim.active_faults()["assumeRole"] == []
    sts.assume_role(RoleArn=ROLE, RoleSessionName="ok")


def test_a_counted_denial_refuses_the_next_calls_then_goes(
    sim: SimulatorHandle, sts: STSClient
) -> None:
    sim.faults({"kind": "deny-assume-role", "roleArn": "arn:aws:iam::111111111111:*", "count": 2})
    assert refusal(sts, RoleArn=ROLE, RoleSessionName="ok")[1] == "AccessDenied"
    assert sim.active_faults()["assumeRole"][0]["count"] == 1
    assert refusal(sts, RoleArn=ROLE, RoleSessionName="ok")[1] == "AccessDenied"
    assert sim.active_faults()["assumeRole"] == []
    sts.assume_role(RoleArn=ROLE, RoleSessionName="ok")


def test_a_denial_at_a_rate(sim: SimulatorHandle, sts: STSClient) -> None:
    sim.faults({"kind": "deny-assume-role", "rate": 0})
    sts.assume_role(RoleArn=ROLE, RoleSessionName="ok")
    sim.clear_faults()
    sim.faults({"kind": "deny-assume-role", "rate": 1})
    assert refusal(sts, RoleArn=OTHER_ROLE, RoleSessionName="ok")[1] == "AccessDenied"


def test_a_required_external_id_admits_only_that_one(sim: SimulatorHandle, sts: STSClient) -> None:
    sim.faults({"kind": "require-external-id", "roleArn": ROLE, "externalId": "team-a-7f3c"})
    # Missing and wrong get the same words: STS never says which condition failed.
    assert refusal(sts, RoleArn=ROLE, RoleSessionName="ok") == (403, "AccessDenied", DENIED)
    assert refusal(sts, RoleArn=ROLE, RoleSessionName="ok", ExternalId="team-b-0000") == (
        403,
        "AccessDenied",
        DENIED,
    )
    sts.assume_role(RoleArn=ROLE, RoleSessionName="ok", ExternalId="team-a-7f3c")
    sts.assume_role(RoleArn=OTHER_ROLE, RoleSessionName="ok")  # no condition on that one
    assert [(c["status"], c["external_id"]) for c in sim.requests("AssumeRole")] == [
        (403, None),
        (403, "team-b-0000"),
        (200, "team-a-7f3c"),
        (200, None),
    ]


def test_a_chained_caller_is_named_by_its_session(sim: SimulatorHandle, sts: STSClient) -> None:
    issued = sts.assume_role(RoleArn=OTHER_ROLE, RoleSessionName="hop")["Credentials"]
    chained = boto3.client(
        "sts",
        endpoint_url=sim.url,
        region_name="us-west-2",
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        aws_session_token=issued["SessionToken"],
    )
    sim.faults({"kind": "deny-assume-role", "roleArn": ROLE})
    _, _, message = refusal(chained, RoleArn=ROLE, RoleSessionName="ok")
    assert message.startswith(
        "User: arn:aws:sts::222222222222:assumed-role/eks-oidc-operator-team-b/hop is not "
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "deny-assume-role", "count": 1, "rate": 0.5},
        {"kind": "deny-assume-role", "count": 0},
        {"kind": "deny-assume-role", "operation": "AssumeRole"},
        {"kind": "require-external-id", "roleArn": ROLE},
        {"kind": "require-external-id", "externalId": "x"},
        {"kind": "require-external-id", "externalId": "ok-id", "count": 1},
    ],
)
def test_a_bad_sts_rule_is_rejected(sim: SimulatorHandle, spec: dict[str, Any]) -> None:
    with pytest.raises(SimulatorError, match="400"):
        sim.faults(spec)
    assert sim.active_faults()["assumeRole"] == []


def test_reset_forgets_sts_rules(sim: SimulatorHandle, sts: STSClient) -> None:
    sim.faults({"kind": "deny-assume-role"})
    sim.reset()
    sts.assume_role(RoleArn=ROLE, RoleSessionName="ok")


# ---------------------------------------------------------------- wire


def test_error_wire_format(sim: SimulatorHandle) -> None:
    sim.faults({"kind": "deny-assume-role"})
    status, headers, error = raw_sts(
        sim,
        {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": ROLE,
            "RoleSessionName": "ok",
        },
    )
    assert status == 403
    assert headers["Content-Type"].startswith("text/xml")
    assert error.tag == f"{NS}ErrorResponse"
    assert error.findtext(f"{NS}Error/{NS}Type") == "Sender"
    assert error.findtext(f"{NS}Error/{NS}Code") == "AccessDenied"
    assert error.findtext(f"{NS}RequestId") == headers["x-amzn-RequestId"]


def test_success_wire_format(sim: SimulatorHandle) -> None:
    status, headers, body = raw_sts(
        sim,
        {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": ROLE,
            "RoleSessionName": "ok",
        },
    )
    assert status == 200
    assert body.tag == f"{NS}AssumeRoleResponse"
    expiration = body.findtext(f"{NS}AssumeRoleResult/{NS}Credentials/{NS}Expiration") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expiration)
    parsed = datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert parsed.timestamp() == pytest.approx(sim.now() + 3600, abs=1)
    assert body.findtext(f"{NS}ResponseMetadata/{NS}RequestId") == headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("form", "code", "message"),
    [
        ({"Action": "GetCallerIdentity", "Version": "2011-06-15"}, "InvalidAction", None),
        (
            {"Action": "AssumeRole", "Version": "2010-01-01"},
            "InvalidAction",
            "Could not find operation AssumeRole for version 2010-01-01",
        ),
        ({"RoleArn": ROLE}, "MissingAction", "Missing Action"),
    ],
)
def test_other_actions_are_refused_and_counted_as_unknown(
    sim: SimulatorHandle, form: dict[str, str], code: str, message: str | None
) -> None:
    status, _, error = raw_sts(sim, form)
    assert (status, error.findtext(f"{NS}Error/{NS}Code")) == (400, code)
    if message is not None:
        assert error.findtext(f"{NS}Error/{NS}Message") == message
    assert sim.count("UnknownOperation", 400) == 1
    assert sim.count("AssumeRole") == 0


def test_eks_is_still_served_beside_sts(sim: SimulatorHandle, sts: STSClient) -> None:
    """STS took ``POST /`` only: EKS's routes, and EKS's 404 for other methods on ``/``, stay."""
    sim.create_cluster("c")
    sts.assume_role(RoleArn=ROLE, RoleSessionName="ok")
    assert sim.boto3_client().list_clusters()["clusters"] == ["c"]
    request = urllib.request.Request(sim.url + "/", method="GET")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)  # noqa: S310
    with caught.value as error:
        assert error.code == 404
        assert error.headers["x-amzn-ErrorType"] == "UnknownOperation"
