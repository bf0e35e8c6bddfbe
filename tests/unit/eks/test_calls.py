"""EksClient against a real boto3 ``eks`` client whose transport is botocore's Stubber.

The client still validates every request against the EKS model, ``expected_params`` pins the
exact request, and every stubbed response is checked against the operation's output shape.
Responses are shaped like the examples in docs/eks-behaviour.md §10. No network.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
import pytest
from botocore.credentials import CredentialResolver
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from eks_oidc_operator.eks.calls import EksClient
from eks_oidc_operator.models import EksUpdateError, OidcConfigSpec
from eks_oidc_operator.models.eks import EksError

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

CLUSTER = "my-eks-cluster"
NAME = "my-identity-provider"
CONFIG_ARN = (
    "arn:aws:eks:us-east-2:111122223333:identityproviderconfig/my-eks-cluster/oidc/"
    "my-identity-provider/8ac76722-78e4-cec1-ed76-d49eea058622"
)
IDP = {"type": "oidc", "name": NAME}
ASSOCIATE = "AssociateIdentityProviderConfig"
DISASSOCIATE = "DisassociateIdentityProviderConfig"
ENDPOINT = "https://eks.us-west-2.amazonaws.com/"


def _update(
    update_id: str,
    kind: str,
    created: float,
    *,
    value: str | None = None,
    status: str = "InProgress",
) -> dict[str, Any]:
    """An ``Update`` as EKS returns it (createdAt in epoch seconds on the wire)."""
    params = [{"type": "IdentityProviderConfig", "value": value}] if value is not None else []
    return {
        "id": update_id,
        "status": status,
        "type": kind,
        "params": params,
        "createdAt": datetime.fromtimestamp(created, UTC),
        "errors": [],
    }


ASSOCIATE_UPDATE = _update(
    "8c6c1bef-61fe-42ac-a242-89412387b8e7",
    ASSOCIATE,
    1712857609.648,
    value='[{"type":"oidc","name":"my-identity-provider"}]',
)
DISASSOCIATE_UPDATE = _update(
    "5f78d14e-c57b-4857-a3e4-cf664ae20949", DISASSOCIATE, 1712858023.314, value="[]"
)
FULL_CONFIG = {
    "identityProviderConfigName": NAME,
    "identityProviderConfigArn": CONFIG_ARN,
    "clusterName": CLUSTER,
    "issuerUrl": "https://oidc.eks.us-east-2.amazonaws.com/id/38D6A4619A0A69E342B113ED7F1A7652",
    "clientId": "kubernetes",
    "usernameClaim": "email",
    "usernamePrefix": "my-username-prefix",
    "groupsClaim": "my-claim",
    "groupsPrefix": "my-groups-prefix",
    "requiredClaims": {"Claim1": "value1", "Claim2": "value2"},
    "tags": {"env": "dev"},
    "status": "ACTIVE",
}


@pytest.fixture
def boto() -> EKSClient:
    return boto3.client(
        "eks", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def stub(boto: EKSClient) -> Iterator[Stubber]:
    with Stubber(boto) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def eks(boto: EKSClient) -> EksClient:
    return EksClient(boto)


def _raised(call: Any, *args: Any) -> EksError:
    with pytest.raises(EksError) as caught:
        call(*args)
    return caught.value


# --- DescribeCluster ---------------------------------------------------------------------


def test_describe_cluster_returns_status_version_and_the_clusters_own_issuer(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_response(
        "describe_cluster",
        {
            "cluster": {
                "name": CLUSTER,
                "arn": "arn:aws:eks:us-west-2:012345678910:cluster/my-eks-cluster",
                "createdAt": datetime(2026, 1, 1, tzinfo=UTC),
                "version": "1.32",
                "status": "ACTIVE",
                "identity": {
                    "oidc": {
                        "issuer": "https://oidc.eks.us-west-2.amazonaws.com/id/38D6A4619A0A69E342B113ED7F1A7652"
                    }
                },
            }
        },
        {"name": CLUSTER},
    )
    cluster = eks.describe_cluster(CLUSTER)
    assert cluster is not None
    assert (cluster.name, cluster.status, cluster.version) == (CLUSTER, "ACTIVE", "1.32")


def test_list_configs_reads_every_page(stub: Stubber, eks: EksClient) -> None:
    first = {"identityProviderConfigs": [{"type": "oidc", "name": "a"}], "nextToken": "t"}
    stub.add_response("list_identity_provider_configs", first, {"clusterName": CLUSTER})
    stub.add_response(
        "list_identity_provider_configs",
        {"identityProviderConfigs": [{"type": "oidc", "name": "b"}]},
        {"clusterName": CLUSTER, "nextToken": "t"},
    )
    assert eks.list_configs(CLUSTER) == ["a", "b"]


def test_describe_cluster_returns_none_when_the_cluster_does_not_exist(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_client_error(
        "describe_cluster",
        "ResourceNotFoundException",
        "No cluster found for name: prod.",
        404,
        modeled_fields={"clusterName": "prod"},
        expected_params={"name": "prod"},
    )
    assert eks.describe_cluster("prod") is None


def test_describe_cluster_throttled_after_botocores_retries_is_a_429_eks_error(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_client_error(
        "describe_cluster",
        "ThrottlingException",
        "Rate exceeded",
        429,
        expected_params={"name": "prod"},
    )
    error = _raised(eks.describe_cluster, "prod")
    assert (error.code, error.message, error.operation, error.http_status) == (
        "ThrottlingException",
        "Rate exceeded",
        "DescribeCluster",
        429,
    )
    assert isinstance(error.__cause__, ClientError)


# --- DescribeIdentityProviderConfig ------------------------------------------------------


def test_describe_config_maps_the_documented_example_member_for_member(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_response(
        "describe_identity_provider_config",
        {"identityProviderConfig": {"oidc": FULL_CONFIG}},
        {"clusterName": CLUSTER, "identityProviderConfig": IDP},
    )
    config = eks.describe_config(CLUSTER, NAME)
    assert config is not None
    assert config.model_dump() == {
        "name": NAME,
        "arn": CONFIG_ARN,
        "cluster_name": CLUSTER,
        "status": "ACTIVE",
        "issuer_url": FULL_CONFIG["issuerUrl"],
        "client_id": "kubernetes",
        "username_claim": "email",
        "username_prefix": "my-username-prefix",
        "groups_claim": "my-claim",
        "groups_prefix": "my-groups-prefix",
        "required_claims": {"Claim1": "value1", "Claim2": "value2"},
        "tags": {"env": "dev"},
    }


def test_describe_config_with_nothing_optional_set_has_no_prefixes_and_empty_maps(
    stub: Stubber, eks: EksClient
) -> None:
    minimal = {
        key: value
        for key, value in FULL_CONFIG.items()
        if key not in ("usernamePrefix", "groupsPrefix")
    } | {"requiredClaims": {}, "tags": {}, "status": "CREATING"}
    stub.add_response(
        "describe_identity_provider_config",
        {"identityProviderConfig": {"oidc": minimal}},
        {"clusterName": CLUSTER, "identityProviderConfig": IDP},
    )
    config = eks.describe_config(CLUSTER, NAME)
    assert config is not None
    assert (config.username_prefix, config.groups_prefix) == (None, None)
    assert (config.required_claims, config.tags, config.status) == ({}, {}, "CREATING")


@pytest.mark.parametrize(
    "message",
    [
        f"No config found for cluster: {CLUSTER}, config type: oidc, config name: {NAME}",
        f"No cluster found for name: {CLUSTER}.",
        "",
    ],
    ids=["config-missing", "cluster-missing", "no-message"],
)
def test_describe_config_returns_none_on_every_404_and_leaves_the_cluster_check_to_the_caller(
    stub: Stubber, eks: EksClient, message: str
) -> None:
    stub.add_client_error(
        "describe_identity_provider_config",
        "ResourceNotFoundException",
        message,
        404,
        modeled_fields={"clusterName": CLUSTER},
        expected_params={"clusterName": CLUSTER, "identityProviderConfig": IDP},
    )
    assert eks.describe_config(CLUSTER, NAME) is None


def test_describe_config_raises_errors_other_than_not_found(stub: Stubber, eks: EksClient) -> None:
    stub.add_client_error(
        "describe_identity_provider_config",
        "AccessDeniedException",
        "User is not authorized to perform: eks:DescribeIdentityProviderConfig",
        403,
    )
    error = _raised(eks.describe_config, CLUSTER, NAME)
    assert (error.code, error.http_status, error.operation) == (
        "AccessDeniedException",
        403,
        "DescribeIdentityProviderConfig",
    )


def test_describe_config_without_an_arn_is_a_malformed_response_not_a_key_error(
    stub: Stubber, eks: EksClient
) -> None:
    broken = {k: v for k, v in FULL_CONFIG.items() if k != "identityProviderConfigArn"}
    stub.add_response(
        "describe_identity_provider_config", {"identityProviderConfig": {"oidc": broken}}
    )
    error = _raised(eks.describe_config, CLUSTER, NAME)
    assert error.code == "MalformedResponse"
    assert "identityProviderConfigArn" in error.message
    assert isinstance(error.__cause__, KeyError)


# --- AssociateIdentityProviderConfig -----------------------------------------------------


def test_associate_sends_the_exact_request_and_returns_the_update_with_its_config_name(
    stub: Stubber, eks: EksClient
) -> None:
    oidc = OidcConfigSpec(
        identity_provider_config_name=NAME,
        issuer_url="https://login.example.com",
        client_id="kubernetes",
        username_claim="email",
        username_prefix="oidc:",
        groups_claim="groups",
        groups_prefix="oidc:",
        required_claims={"hd": "example.com"},
    )
    stub.add_response(
        "associate_identity_provider_config",
        {"update": ASSOCIATE_UPDATE, "tags": {"env": "dev"}},
        {
            "clusterName": CLUSTER,
            "oidc": {
                "identityProviderConfigName": NAME,
                "issuerUrl": "https://login.example.com",
                "clientId": "kubernetes",
                "usernameClaim": "email",
                "usernamePrefix": "oidc:",
                "groupsClaim": "groups",
                "groupsPrefix": "oidc:",
                "requiredClaims": {"hd": "example.com"},
            },
            "tags": {"env": "dev"},
            "clientRequestToken": "uid-1-gen-3",
        },
    )
    update = eks.associate(CLUSTER, NAME, oidc, {"env": "dev"}, "uid-1-gen-3")
    assert update.id == "8c6c1bef-61fe-42ac-a242-89412387b8e7"
    assert (update.type, update.status, update.errors) == (ASSOCIATE, "InProgress", ())
    assert update.config_names == (NAME,)
    assert update.created_at == datetime(2024, 4, 11, 17, 46, 49, 648000, tzinfo=UTC)


def test_associate_omits_unset_members_empty_claims_and_empty_tags(
    stub: Stubber, eks: EksClient
) -> None:
    oidc = OidcConfigSpec(
        issuer_url="https://login.example.com", client_id="kubernetes", required_claims={}
    )
    stub.add_response(
        "associate_identity_provider_config",
        {"update": ASSOCIATE_UPDATE, "tags": {}},
        {
            "clusterName": CLUSTER,
            "oidc": {
                "identityProviderConfigName": NAME,
                "issuerUrl": "https://login.example.com",
                "clientId": "kubernetes",
            },
            "clientRequestToken": "tok",
        },
    )
    assert eks.associate(CLUSTER, NAME, oidc, {}, "tok").status == "InProgress"


def test_associate_on_a_busy_cluster_is_a_409_that_keeps_eks_words(
    stub: Stubber, eks: EksClient
) -> None:
    message = (
        f"Cannot AssociateIdentityProviderConfig because cluster {CLUSTER} currently has "
        "update 5f78d14e-c57b-4857-a3e4-cf664ae20949 in progress"
    )
    stub.add_client_error(
        "associate_identity_provider_config",
        "ResourceInUseException",
        message,
        409,
        modeled_fields={"clusterName": CLUSTER},
    )
    oidc = OidcConfigSpec(issuer_url="https://login.example.com", client_id="kubernetes")
    error = _raised(eks.associate, CLUSTER, NAME, oidc, {}, "tok")
    assert (error.code, error.message, error.operation, error.http_status) == (
        "ResourceInUseException",
        message,
        ASSOCIATE,
        409,
    )
    assert str(error) == f"{ASSOCIATE}: ResourceInUseException: {message}"
    assert isinstance(error.__cause__, ClientError)


def test_associate_with_a_rejected_parameter_is_an_invalid_parameter_error(
    stub: Stubber, eks: EksClient
) -> None:
    message = (
        "Incorrect Identity Provider URL configuration. The Identity Provider URL cannot be "
        "same as OpenID Connect (OIDC) issuer URL"
    )
    stub.add_client_error(
        "associate_identity_provider_config", "InvalidParameterException", message, 400
    )
    oidc = OidcConfigSpec(issuer_url="https://login.example.com", client_id="kubernetes")
    error = _raised(eks.associate, CLUSTER, NAME, oidc, {}, "tok")
    assert (error.code, error.message, error.http_status) == (
        "InvalidParameterException",
        message,
        400,
    )


def test_associate_on_a_missing_cluster_raises_not_found(stub: Stubber, eks: EksClient) -> None:
    stub.add_client_error(
        "associate_identity_provider_config",
        "ResourceNotFoundException",
        "No cluster found for name: prod.",
        404,
    )
    oidc = OidcConfigSpec(issuer_url="https://login.example.com", client_id="kubernetes")
    error = _raised(eks.associate, "prod", NAME, oidc, {}, "tok")
    assert (error.code, error.http_status) == ("ResourceNotFoundException", 404)


def test_a_request_botocore_refuses_before_sending_is_a_param_validation_error(
    boto: EKSClient, eks: EksClient
) -> None:
    # No Stubber: botocore validates the request (tag keys need 1+ characters) and never sends.
    oidc = OidcConfigSpec(issuer_url="https://login.example.com", client_id="kubernetes")
    error = _raised(eks.associate, CLUSTER, NAME, oidc, {"": "v"}, "tok")
    assert error.code == "ParamValidationError"
    assert error.http_status is None
    assert error.operation == ASSOCIATE
    assert isinstance(error.__cause__, ParamValidationError)
    assert error.message == str(error.__cause__)


# --- DisassociateIdentityProviderConfig --------------------------------------------------


def test_disassociate_sends_type_name_and_token_and_decodes_empty_params(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_response(
        "disassociate_identity_provider_config",
        {"update": DISASSOCIATE_UPDATE},
        {"clusterName": CLUSTER, "identityProviderConfig": IDP, "clientRequestToken": "del-1"},
    )
    update = eks.disassociate(CLUSTER, NAME, "del-1")
    assert (update.id, update.type, update.status) == (
        "5f78d14e-c57b-4857-a3e4-cf664ae20949",
        DISASSOCIATE,
        "InProgress",
    )
    assert update.config_names == ()


def test_disassociate_of_a_config_still_creating_keeps_eks_invalid_request(
    stub: Stubber, eks: EksClient
) -> None:
    message = f"Identity provider config is not associated with cluster {CLUSTER}"
    stub.add_client_error(
        "disassociate_identity_provider_config",
        "InvalidRequestException",
        message,
        400,
        modeled_fields={"clusterName": CLUSTER},
    )
    error = _raised(eks.disassociate, CLUSTER, NAME, "del-1")
    assert (error.code, error.message, error.operation, error.http_status) == (
        "InvalidRequestException",
        message,
        DISASSOCIATE,
        400,
    )


# --- DescribeUpdate / ListUpdates --------------------------------------------------------


def test_describe_update_maps_a_failed_update_with_its_error_details(
    stub: Stubber, eks: EksClient
) -> None:
    failed = ASSOCIATE_UPDATE | {
        "status": "Failed",
        "errors": [
            {
                "errorCode": "Unknown",
                "errorMessage": "could not reach issuer",
                "resourceIds": [CLUSTER],
            }
        ],
    }
    stub.add_response(
        "describe_update",
        {"update": failed},
        {"name": CLUSTER, "updateId": "8c6c1bef-61fe-42ac-a242-89412387b8e7"},
    )
    update = eks.describe_update(CLUSTER, "8c6c1bef-61fe-42ac-a242-89412387b8e7")
    assert update is not None
    assert update.status == "Failed"
    assert update.errors == (
        EksUpdateError(
            error_code="Unknown", error_message="could not reach issuer", resource_ids=(CLUSTER,)
        ),
    )


def test_describe_update_returns_none_for_an_unknown_update(stub: Stubber, eks: EksClient) -> None:
    stub.add_client_error(
        "describe_update",
        "ResourceNotFoundException",
        "No update found for ID: nope",
        404,
        modeled_fields={"clusterName": CLUSTER},
        expected_params={"name": CLUSTER, "updateId": "nope"},
    )
    assert eks.describe_update(CLUSTER, "nope") is None


def test_describe_update_raises_server_errors(stub: Stubber, eks: EksClient) -> None:
    stub.add_client_error("describe_update", "ServerException", "internal", 500)
    error = _raised(eks.describe_update, CLUSTER, "u")
    assert (error.code, error.http_status, error.operation) == (
        "ServerException",
        500,
        "DescribeUpdate",
    )


def test_find_config_update_lists_every_page_and_returns_the_newest_association_of_the_config(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_response(
        "list_updates", {"updateIds": ["u1", "u2"], "nextToken": "t"}, {"name": CLUSTER}
    )
    stub.add_response(
        "list_updates", {"updateIds": ["u3", "u4"]}, {"name": CLUSTER, "nextToken": "t"}
    )
    updates = {
        "u1": _update(
            "u1",
            ASSOCIATE,
            100,
            value='[{"type":"oidc","name":"my-identity-provider"}]',
            status="Failed",
        ),
        "u2": _update(
            "u2", ASSOCIATE, 300, value='[{"type":"oidc","name":"my-identity-provider"}]'
        ),
        "u3": _update("u3", ASSOCIATE, 400, value='[{"type":"oidc","name":"someone-else"}]'),
        "u4": _update("u4", "VersionUpdate", 500, status="Successful"),
    }
    for update_id, update in updates.items():
        stub.add_response(
            "describe_update", {"update": update}, {"name": CLUSTER, "updateId": update_id}
        )
    found = eks.find_config_update(CLUSTER, NAME, ASSOCIATE)
    assert found is not None
    assert (found.id, found.status) == ("u2", "InProgress")


def test_find_config_update_matches_the_in_progress_disassociation_and_skips_vanished_ids(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_response("list_updates", {"updateIds": ["gone", "old", "now"]}, {"name": CLUSTER})
    stub.add_client_error(
        "describe_update",
        "ResourceNotFoundException",
        "No update found for ID: gone",
        404,
        expected_params={"name": CLUSTER, "updateId": "gone"},
    )
    stub.add_response(
        "describe_update",
        {"update": _update("old", DISASSOCIATE, 100, value="[]", status="Successful")},
        {"name": CLUSTER, "updateId": "old"},
    )
    stub.add_response(
        "describe_update",
        {"update": _update("now", DISASSOCIATE, 200, value="[]")},
        {"name": CLUSTER, "updateId": "now"},
    )
    found = eks.find_config_update(CLUSTER, NAME, DISASSOCIATE)
    assert found is not None
    assert found.id == "now"


def test_find_config_update_returns_none_when_the_cluster_has_no_updates(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_response("list_updates", {"updateIds": []}, {"name": CLUSTER})
    assert eks.find_config_update(CLUSTER, NAME, ASSOCIATE) is None


def test_find_config_update_on_a_missing_cluster_raises_not_found_from_list_updates(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_client_error("list_updates", "ResourceNotFoundException", "No cluster found", 404)
    error = _raised(eks.find_config_update, CLUSTER, NAME, ASSOCIATE)
    assert (error.code, error.operation) == ("ResourceNotFoundException", "ListUpdates")


# --- Tags --------------------------------------------------------------------------------


def test_tag_sets_the_given_tags_on_the_arn(stub: Stubber, eks: EksClient) -> None:
    stub.add_response(
        "tag_resource", {}, {"resourceArn": CONFIG_ARN, "tags": {"team": "platform", "env": "dev"}}
    )
    eks.tag(CONFIG_ARN, {"team": "platform", "env": "dev"})


def test_untag_removes_the_keys_in_sorted_order(stub: Stubber, eks: EksClient) -> None:
    stub.add_response("untag_resource", {}, {"resourceArn": CONFIG_ARN, "tagKeys": ["a", "b c"]})
    eks.untag(CONFIG_ARN, {"b c", "a"})


def test_tag_and_untag_with_nothing_to_change_make_no_call(stub: Stubber, eks: EksClient) -> None:
    eks.tag(CONFIG_ARN, {})
    eks.untag(CONFIG_ARN, [])  # the stub fails the test on any unexpected call


def test_tagging_a_missing_resource_is_a_404_not_found_exception(
    stub: Stubber, eks: EksClient
) -> None:
    stub.add_client_error("tag_resource", "NotFoundException", "resource not found", 404)
    error = _raised(eks.tag, CONFIG_ARN, {"a": "1"})
    assert (error.code, error.message, error.operation, error.http_status) == (
        "NotFoundException",
        "resource not found",
        "TagResource",
        404,
    )


def test_a_malformed_untag_request_is_a_400_bad_request(stub: Stubber, eks: EksClient) -> None:
    stub.add_client_error("untag_resource", "BadRequestException", "aws: keys are reserved", 400)
    error = _raised(eks.untag, CONFIG_ARN, ["aws:x"])
    assert (error.code, error.http_status, error.operation) == (
        "BadRequestException",
        400,
        "UntagResource",
    )


# --- Error translation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 429),
        ("TooManyRequestsException", 429),
        ("ServerException", 500),
        ("ServiceUnavailableException", 503),
        ("ClientException", 400),
        ("ExpiredTokenException", 403),
        ("UnrecognizedClientException", 403),
        ("AccessDeniedException", 403),
    ],
)
def test_every_eks_error_keeps_its_code_message_and_status(
    stub: Stubber, eks: EksClient, code: str, status: int
) -> None:
    stub.add_client_error("describe_update", code, f"words of {code}", status)
    error = _raised(eks.describe_update, CLUSTER, "11111111-2222-3333-4444-555555555555")
    assert (error.code, error.message, error.operation, error.http_status) == (
        code,
        f"words of {code}",
        "DescribeUpdate",
        status,
    )


@pytest.mark.parametrize(
    "failure",
    [
        NoCredentialsError(),
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        NoRegionError(),
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ReadTimeoutError(endpoint_url=ENDPOINT),
        ConnectionClosedError(endpoint_url=ENDPOINT),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_a_failure_that_never_reached_eks_is_named_after_its_exception(
    boto: EKSClient, eks: EksClient, failure: BotoCoreError
) -> None:
    def fail(**_: object) -> None:
        raise failure

    # Raised from inside the real call path, where botocore would raise it.
    boto.meta.events.register("before-call.eks.DescribeCluster", fail)
    error = _raised(eks.describe_cluster, CLUSTER)
    assert (error.code, error.message, error.operation, error.http_status) == (
        type(failure).__name__,
        str(failure),
        "DescribeCluster",
        None,
    )
    assert error.__cause__ is failure


def test_a_client_without_credentials_fails_with_no_credentials_before_sending() -> None:
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([]))
    boto = boto3.session.Session(botocore_session=core).client("eks", region_name="us-west-2")
    error = _raised(EksClient(boto).describe_cluster, CLUSTER)
    assert (error.code, error.operation, error.http_status) == (
        "NoCredentialsError",
        "DescribeCluster",
        None,
    )
    assert error.message == "Unable to locate credentials"


@pytest.mark.parametrize("code", ["AccessDenied", "ResourceNotFoundException"])
@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("describe_cluster", (CLUSTER,)),
        ("describe_config", (CLUSTER, NAME)),
        ("disassociate", (CLUSTER, NAME, "del-1")),
    ],
    ids=["or-none", "or-none-config", "translated"],
)
def test_an_eks_error_of_another_operation_leaves_the_call_unchanged(
    boto: EKSClient, eks: EksClient, code: str, method: str, args: tuple[str, ...]
) -> None:
    # What a failed AssumeRole raises from inside the call (see the factory). Even its
    # "not found" is no answer about EKS's resource: the describes must not turn it into None.
    raised = EksError(code, "AssumeRole of arn:aws:iam::1:role/x failed", operation="AssumeRole")

    def fail(**_: object) -> None:
        raise raised

    boto.meta.events.register("before-call.eks", fail)
    assert _raised(getattr(eks, method), *args) is raised
