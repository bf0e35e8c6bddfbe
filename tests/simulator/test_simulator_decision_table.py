"""Every error row of docs/eks-behaviour.md §2.3-§2.5 (and the other errors), through real boto3.

Each test provokes one row and checks the exception class botocore raised (so the status,
``x-amzn-ErrorType`` and modeled shape all line up), the message, and modeled members such
as ``clusterName`` copied to the top of ``e.response``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from eks_oidc_testing.simulator import SimulatorError, SimulatorHandle, oidc_request

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

VPC: Any = {"subnetIds": ["subnet-1", "subnet-2"]}
ROLE = "arn:aws:iam::123456789012:role/eks"


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore error."""
    response: Any = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def associate(eks: EKSClient, cluster: str = "c", **kwargs: Any) -> Any:
    return eks.associate_identity_provider_config(
        clusterName=cluster, oidc=kwargs.pop("oidc", oidc_request()), **kwargs
    )


# ---------------------------------------------------------------- Associate


def test_associate_on_a_missing_cluster_is_404(eks: EKSClient) -> None:
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as info:
        associate(eks, "nope")
    assert error_of(info) == ("ResourceNotFoundException", "No cluster found for name: nope.", 404)
    assert info.value.response["clusterName"] == "nope"  # type: ignore[typeddict-item]


def test_associate_with_an_update_in_progress_is_409_with_eks_message(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c", "1.32")
    first = associate(eks, oidc=oidc_request("one", "https://one.example.com"))["update"]["id"]
    with pytest.raises(eks.exceptions.ResourceInUseException) as info:
        associate(eks, oidc=oidc_request("two", "https://two.example.com"))
    assert error_of(info) == (
        "ResourceInUseException",
        f"Cannot AssociateIdentityProviderConfig because cluster c currently has update "
        f"{first} in progress",
        409,
    )
    assert info.value.response["clusterName"] == "c"  # type: ignore[typeddict-item]


def test_associate_on_a_creating_cluster_is_400_invalid_request(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c", status="CREATING")
    with pytest.raises(eks.exceptions.InvalidRequestException) as info:
        associate(eks)
    assert error_of(info) == ("InvalidRequestException", "Cluster 'c' is not in ACTIVE status", 400)


@pytest.mark.parametrize(
    ("issuer", "fragment"),
    [
        ("http://issuer.example.com", "must begin with https://"),
        ("issuer.example.com", "must begin with https://"),
        ("https://issuer.example.com/path?x=1", "query parameters are not"),
    ],
)
def test_associate_rejects_a_bad_issuer(
    sim: SimulatorHandle, eks: EKSClient, issuer: str, fragment: str
) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        associate(eks, oidc=oidc_request(issuer=issuer))
    code, message, status = error_of(info)
    assert (code, status) == ("InvalidParameterException", 400)
    assert fragment in message


def test_associate_rejects_the_clusters_own_issuer_with_the_aws_message(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c")
    own = eks.describe_cluster(name="c")["cluster"]["identity"]["oidc"]["issuer"]
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        associate(eks, oidc=oidc_request(issuer=own))
    assert error_of(info)[1] == (
        "Incorrect Identity Provider URL configuration. The Identity Provider URL cannot be "
        "same as OpenID Connect (OIDC) issuer URL"
    )


@pytest.mark.parametrize("member", ["usernamePrefix", "groupsPrefix"])
def test_associate_rejects_system_prefixes(
    sim: SimulatorHandle, eks: EKSClient, member: str
) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        associate(eks, oidc=oidc_request(**{member: "system:evil"}))
    assert "system:" in error_of(info)[1]


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ({f"k{i}": "v" for i in range(51)}, "less than or equal to 50"),
        ({"k" * 129: "v"}, "less than or equal to 128"),
        ({"k": "v" * 257}, "less than or equal to 256"),
        ({"aws:owner": "me"}, "reserved prefix"),
        ({"owner": "AWS:me"}, "reserved prefix"),
    ],
)
def test_associate_rejects_bad_tags(
    sim: SimulatorHandle, eks: EKSClient, tags: dict[str, str], fragment: str
) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        associate(eks, tags=tags)
    assert fragment in error_of(info)[1]


def test_associate_rejects_an_over_long_required_claim(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        associate(eks, oidc=oidc_request(requiredClaims={"c" * 64: "v"}))
    assert "less than or equal to 63" in error_of(info)[1]


def test_associate_rejects_an_empty_client_id(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.InvalidParameterException):
        associate(eks, oidc={**oidc_request(), "clientId": ""})


def test_associate_of_an_existing_name_is_409(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c", "1.32")
    associate(eks)
    sim.advance(10)
    with pytest.raises(eks.exceptions.ResourceInUseException) as info:
        associate(eks, oidc=oidc_request(issuer="https://other.example.com"))
    assert "already exists" in error_of(info)[1]


def test_associate_of_an_issuer_already_used_is_400(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c", "1.32")
    associate(eks)
    sim.advance(10)
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        associate(eks, oidc=oidc_request("second", "https://issuer.example.com/"))
    assert "already associated" in error_of(info)[1]


def test_a_cluster_below_1_32_allows_one_provider(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c", "1.31")
    associate(eks)
    sim.advance(10)
    with pytest.raises(eks.exceptions.InvalidRequestException) as info:
        associate(eks, oidc=oidc_request("second", "https://second.example.com"))
    assert "maximum number of identity provider configs (1)" in error_of(info)[1]


def test_a_cluster_from_1_32_allows_ten_providers(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c", "1.32")
    for i in range(10):
        associate(eks, oidc=oidc_request(f"p{i}", f"https://p{i}.example.com"))
        sim.advance(10)
    with pytest.raises(eks.exceptions.InvalidRequestException) as info:
        associate(eks, oidc=oidc_request("p10", "https://p10.example.com"))
    assert "(10)" in error_of(info)[1]
    assert len(eks.list_identity_provider_configs(clusterName="c")["identityProviderConfigs"]) == 10


def test_the_combined_size_of_providers_is_capped_at_12_kb(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c", "1.33")
    claims = {f"claim{i:02d}": "v" * 200 for i in range(25)}  # ~5.5 KB per config
    associate(eks, oidc=oidc_request("a", "https://a.example.com", requiredClaims=claims))
    sim.advance(10)
    associate(eks, oidc=oidc_request("b", "https://b.example.com", requiredClaims=claims))
    sim.advance(10)
    with pytest.raises(eks.exceptions.InvalidRequestException) as info:
        associate(eks, oidc=oidc_request("c", "https://c.example.com", requiredClaims=claims))
    assert "12288 bytes" in error_of(info)[1]


def test_a_missing_required_member_that_botocore_would_catch_is_400(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    with pytest.raises(SimulatorError, match="Member must not be null"):
        sim.call("POST", "/clusters/c/identity-provider-configs/associate", {"oidc": {}})


# ---------------------------------------------------------------- Disassociate


def disassociate(eks: EKSClient, cluster: str = "c", name: str = "idp", **kwargs: Any) -> Any:
    return eks.disassociate_identity_provider_config(
        clusterName=cluster, identityProviderConfig={"type": "oidc", "name": name}, **kwargs
    )


def test_disassociate_on_a_missing_cluster_is_404(eks: EKSClient) -> None:
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        disassociate(eks, "nope")


def test_disassociate_of_a_missing_config_is_404_with_eks_message(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as info:
        disassociate(eks, name="ghost")
    assert error_of(info) == (
        "ResourceNotFoundException",
        "No config found for cluster: c, config type: oidc, config name: ghost",
        404,
    )


def test_disassociate_while_creating_is_400_not_associated(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c")
    associate(eks)
    with pytest.raises(eks.exceptions.InvalidRequestException) as info:
        disassociate(eks)
    assert error_of(info) == (
        "InvalidRequestException",
        "Identity provider config is not associated with cluster c",
        400,
    )
    assert info.value.response["clusterName"] == "c"  # type: ignore[typeddict-item]


def test_disassociate_during_another_update_is_409(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c", "1.32")
    associate(eks)
    sim.advance(10)
    busy = associate(eks, oidc=oidc_request("two", "https://two.example.com"))["update"]["id"]
    with pytest.raises(eks.exceptions.ResourceInUseException) as info:
        disassociate(eks)
    assert error_of(info)[1] == (
        f"Cannot DisassociateIdentityProviderConfig because cluster c currently has update "
        f"{busy} in progress"
    )


def test_disassociate_of_a_deleting_config_is_409(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    associate(eks)
    sim.advance(10)
    disassociate(eks)
    with pytest.raises(eks.exceptions.ResourceInUseException):
        disassociate(eks)


def test_a_type_other_than_oidc_is_invalid(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.describe_identity_provider_config(
            clusterName="c", identityProviderConfig={"type": "saml", "name": "x"}
        )
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.disassociate_identity_provider_config(
            clusterName="c", identityProviderConfig={"type": "saml", "name": "x"}
        )


# ---------------------------------------------------------------- reads


def test_describe_config_errors(sim: SimulatorHandle, eks: EKSClient) -> None:
    ref: Any = {"type": "oidc", "name": "x"}
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as info:
        eks.describe_identity_provider_config(clusterName="nope", identityProviderConfig=ref)
    assert error_of(info)[1] == "No cluster found for name: nope."
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as info:
        eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=ref)
    assert error_of(info)[1] == "No config found for cluster: c, config type: oidc, config name: x"


def test_list_configs_on_a_missing_cluster_has_no_trailing_period(eks: EKSClient) -> None:
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as info:
        eks.list_identity_provider_configs(clusterName="nope")
    assert error_of(info)[1] == "No cluster found for name: nope"


def test_legacy_mode_requires_max_results_1_below_1_32(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("old", "1.31")
    sim.create_cluster("new", "1.32")
    eks.list_identity_provider_configs(clusterName="old", maxResults=100)  # default: accepted
    sim.configure(legacyIdpListMaxResults=True)
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        eks.list_identity_provider_configs(clusterName="old", maxResults=100)
    assert error_of(info)[1] == "maxResults needs to be 1"
    eks.list_identity_provider_configs(clusterName="old", maxResults=1)
    eks.list_identity_provider_configs(clusterName="new", maxResults=100)


def test_describe_update_errors(sim: SimulatorHandle, eks: EKSClient) -> None:
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_update(name="nope", updateId="x")
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as info:
        eks.describe_update(name="c", updateId="11111111-2222-3333-4444-555555555555")
    assert error_of(info)[1] == "No update found for ID: 11111111-2222-3333-4444-555555555555"
    assert info.value.response["clusterName"] == "c"  # type: ignore[typeddict-item]
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.list_updates(name="nope")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.list_updates(name="c", nodegroupName="ng")


@pytest.mark.parametrize("max_results", [101, 1000])
def test_max_results_above_100_is_invalid(
    sim: SimulatorHandle, eks: EKSClient, max_results: int
) -> None:
    sim.create_cluster("c")
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.list_clusters(maxResults=max_results)
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.list_updates(name="c", maxResults=max_results)
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.list_identity_provider_configs(clusterName="c", maxResults=max_results)


def test_list_clusters_include_must_be_lowercase_all(eks: EKSClient) -> None:
    assert eks.list_clusters(include=["all"])["clusters"] == []
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.list_clusters(include=["ALL"])


def test_a_garbage_next_token_is_invalid(eks: EKSClient) -> None:
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.list_clusters(nextToken="not-a-token")


# ---------------------------------------------------------------- clusters


def test_create_cluster_errors(sim: SimulatorHandle, eks: EKSClient) -> None:
    eks.create_cluster(name="c", roleArn=ROLE, resourcesVpcConfig=VPC)
    with pytest.raises(eks.exceptions.ResourceInUseException) as info:
        eks.create_cluster(name="c", roleArn=ROLE, resourcesVpcConfig=VPC)
    assert error_of(info) == ("ResourceInUseException", "Cluster already exists with name: c", 409)
    with pytest.raises(eks.exceptions.InvalidParameterException) as info:
        eks.create_cluster(name="d", roleArn="not-an-arn", resourcesVpcConfig=VPC)
    assert error_of(info)[1] == "Invalid Role Arn: 'not-an-arn'"
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_cluster(name="d", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["s"]})
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_cluster(name="-bad", roleArn=ROLE, resourcesVpcConfig=VPC)
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_cluster(name="bad.name", roleArn=ROLE, resourcesVpcConfig=VPC)
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_cluster(name="d", roleArn=ROLE, resourcesVpcConfig=VPC, version="2.0")
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_cluster(name="d", roleArn=ROLE, resourcesVpcConfig=VPC, tags={"aws:x": "y"})
    sim.configure(clusterLimit=1)
    with pytest.raises(eks.exceptions.ResourceLimitExceededException):
        eks.create_cluster(name="d", roleArn=ROLE, resourcesVpcConfig=VPC)


def test_delete_cluster_errors(sim: SimulatorHandle, eks: EKSClient) -> None:
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.delete_cluster(name="nope")
    sim.create_cluster("c")
    associate(eks)
    with pytest.raises(eks.exceptions.ResourceInUseException) as info:
        eks.delete_cluster(name="c")
    assert error_of(info)[1] == (
        "Cannot delete because cluster c currently has an update in progress"
    )


# ---------------------------------------------------------------- tags


def test_tag_operation_errors(sim: SimulatorHandle, eks: EKSClient) -> None:
    arn = sim.create_cluster("c")["arn"]
    with pytest.raises(eks.exceptions.BadRequestException):
        eks.list_tags_for_resource(resourceArn="not-an-arn")
    missing = arn.replace("cluster/c", "cluster/ghost")
    with pytest.raises(eks.exceptions.NotFoundException) as info:
        eks.tag_resource(resourceArn=missing, tags={"a": "b"})
    assert error_of(info)[2] == 404
    with pytest.raises(eks.exceptions.NotFoundException):
        eks.list_tags_for_resource(resourceArn=arn.replace("us-west-2", "eu-west-1"))
    with pytest.raises(eks.exceptions.BadRequestException):
        eks.tag_resource(resourceArn=arn, tags={"aws:reserved": "x"})
    with pytest.raises(eks.exceptions.BadRequestException):
        eks.tag_resource(resourceArn=arn, tags={})
    with pytest.raises(eks.exceptions.BadRequestException):
        eks.untag_resource(resourceArn=arn, tagKeys=["aws:reserved"])
    eks.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(eks.exceptions.BadRequestException) as info:
        eks.tag_resource(resourceArn=arn, tags={"one-too-many": "v"})
    assert "at most 50" in error_of(info)[1]
