"""Success paths of all 13 operations and the wire format, through real boto3 over HTTP."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from botocore.validate import ParamValidator

from eks_oidc_testing.simulator import SimulatorHandle, oidc_request
from eks_simulator.protocol import OPERATIONS

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

VPC: Any = {"subnetIds": ["subnet-1", "subnet-2"], "securityGroupIds": ["sg-1"]}
ROLE = "arn:aws:iam::123456789012:role/eks"
CLUSTER_ARN = re.compile(r"arn:aws:eks:us-west-2:123456789012:cluster/(?P<name>[\w-]+)")
CONFIG_ARN = re.compile(
    r"arn:aws:eks:us-west-2:123456789012:identityproviderconfig/c/oidc/idp/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
ISSUER = re.compile(r"https://oidc\.eks\.us-west-2\.amazonaws\.com/id/[0-9A-F]{32}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def raw(sim: SimulatorHandle, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
    """(status, headers, decoded JSON body) of a raw HTTP call, errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(sim.url + path, data=data, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_create_describe_list_delete_cluster_lifecycle(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    created = eks.create_cluster(
        name="c", version="1.31", roleArn=ROLE, resourcesVpcConfig=VPC, tags={"team": "a"}
    )["cluster"]
    assert created["status"] == "CREATING"
    assert "endpoint" not in created  # only once ACTIVE
    assert "certificateAuthority" not in created
    assert CLUSTER_ARN.fullmatch(created["arn"])
    assert ISSUER.fullmatch(created["identity"]["oidc"]["issuer"])
    assert created["tags"] == {"team": "a"}
    assert created["resourcesVpcConfig"]["subnetIds"] == ["subnet-1", "subnet-2"]
    assert UUID.fullmatch(created["clientRequestToken"])  # botocore filled it in
    sim.advance(0.9)
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "CREATING"
    sim.advance(0.2)
    active = eks.describe_cluster(name="c")["cluster"]
    assert active["status"] == "ACTIVE"
    assert active["endpoint"].startswith("https://")
    assert active["certificateAuthority"]["data"]
    assert active["version"] == "1.31"
    assert eks.list_clusters()["clusters"] == ["c"]
    assert eks.delete_cluster(name="c")["cluster"]["status"] == "DELETING"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "DELETING"
    sim.advance(1.1)
    assert eks.list_clusters()["clusters"] == []
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name="c")


def test_create_cluster_replays_the_same_token(sim: SimulatorHandle, eks: EKSClient) -> None:
    first = eks.create_cluster(
        name="c", roleArn=ROLE, resourcesVpcConfig=VPC, clientRequestToken="t"
    )
    again = eks.create_cluster(
        name="c", roleArn=ROLE, resourcesVpcConfig=VPC, clientRequestToken="t"
    )
    assert again["cluster"]["arn"] == first["cluster"]["arn"]
    assert sim.count("CreateCluster", 200) == 2


def test_association_lifecycle(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    response = eks.associate_identity_provider_config(
        clusterName="c",
        oidc=oidc_request(usernameClaim="email", groupsClaim="groups", requiredClaims={"a": "b"}),
        tags={"env": "dev"},
    )
    update = response["update"]
    assert response["tags"] == {"env": "dev"}
    assert UUID.fullmatch(update["id"])
    assert update["status"] == "InProgress"
    assert update["type"] == "AssociateIdentityProviderConfig"
    assert update["params"] == [
        {"type": "IdentityProviderConfig", "value": '[{"type":"oidc","name":"idp"}]'}
    ]
    assert update["errors"] == []
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    ref: Any = {"type": "oidc", "name": "idp"}
    config = eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=ref)[
        "identityProviderConfig"
    ]["oidc"]
    assert config["status"] == "CREATING"
    assert CONFIG_ARN.fullmatch(config["identityProviderConfigArn"])
    assert config["requiredClaims"] == {"a": "b"}
    assert config["tags"] == {"env": "dev"}
    assert "usernamePrefix" not in config  # unset optional members are omitted
    assert eks.list_identity_provider_configs(clusterName="c")["identityProviderConfigs"] == [
        {"type": "oidc", "name": "idp"}
    ]
    assert eks.list_updates(name="c")["updateIds"] == [update["id"]]

    sim.advance(2)
    done = eks.describe_update(name="c", updateId=update["id"])["update"]
    assert done["status"] == "Successful"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    config = eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=ref)[
        "identityProviderConfig"
    ]["oidc"]
    assert config["status"] == "ACTIVE"

    removal = eks.disassociate_identity_provider_config(
        clusterName="c", identityProviderConfig=ref
    )["update"]
    assert removal["type"] == "DisassociateIdentityProviderConfig"
    assert removal["params"] == [{"type": "IdentityProviderConfig", "value": "[]"}]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    config = eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=ref)[
        "identityProviderConfig"
    ]["oidc"]
    assert config["status"] == "DELETING"
    sim.advance(2)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=ref)
    assert eks.describe_update(name="c", updateId=removal["id"])["update"]["status"] == "Successful"
    assert eks.list_updates(name="c")["updateIds"] == [update["id"], removal["id"]]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"


def test_the_same_token_returns_the_original_update(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    first = eks.associate_identity_provider_config(
        clusterName="c", oidc=oidc_request(), tags={"a": "b"}, clientRequestToken="tok"
    )
    again = eks.associate_identity_provider_config(
        clusterName="c", oidc=oidc_request(), tags={"a": "b"}, clientRequestToken="tok"
    )
    assert again["update"]["id"] == first["update"]["id"]
    assert again["tags"] == {"a": "b"}
    assert len(eks.list_updates(name="c")["updateIds"]) == 1
    sim.advance(5)
    ref: Any = {"type": "oidc", "name": "idp"}
    gone = eks.disassociate_identity_provider_config(
        clusterName="c", identityProviderConfig=ref, clientRequestToken="tok2"
    )
    replayed = eks.disassociate_identity_provider_config(
        clusterName="c", identityProviderConfig=ref, clientRequestToken="tok2"
    )
    assert replayed["update"]["id"] == gone["update"]["id"]
    assert len(eks.list_updates(name="c")["updateIds"]) == 2


def test_tags_on_clusters_and_configs_are_independent(sim: SimulatorHandle, eks: EKSClient) -> None:
    cluster_arn = sim.create_cluster("c")["arn"]
    eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request(), tags={"x": "1"})
    config_arn = eks.describe_identity_provider_config(
        clusterName="c", identityProviderConfig={"type": "oidc", "name": "idp"}
    )["identityProviderConfig"]["oidc"]["identityProviderConfigArn"]
    assert eks.list_tags_for_resource(resourceArn=cluster_arn)["tags"] == {}
    eks.tag_resource(resourceArn=cluster_arn, tags={"a": "1", "b": "2"})  # allowed mid-update
    eks.tag_resource(resourceArn=cluster_arn, tags={"a": "3"})
    eks.untag_resource(resourceArn=cluster_arn, tagKeys=["b", "never-there"])
    assert eks.list_tags_for_resource(resourceArn=cluster_arn)["tags"] == {"a": "3"}
    assert eks.describe_cluster(name="c")["cluster"]["tags"] == {"a": "3"}
    assert eks.list_tags_for_resource(resourceArn=config_arn)["tags"] == {"x": "1"}
    eks.tag_resource(resourceArn=config_arn, tags={"y": "2"})
    assert eks.list_tags_for_resource(resourceArn=config_arn)["tags"] == {"x": "1", "y": "2"}


def test_tag_arns_work_unencoded_too(sim: SimulatorHandle) -> None:
    """botocore encodes ``/`` in the ARN label as %2F; a client that does not still works."""
    arn = sim.create_cluster("c")["arn"]
    status, _, body = raw(sim, "GET", f"/tags/{arn}")
    assert (status, body) == (200, {"tags": {}})


def test_error_wire_format(sim: SimulatorHandle) -> None:
    status, headers, body = raw(sim, "GET", "/clusters/nope")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert UUID.fullmatch(headers["x-amzn-RequestId"])
    assert headers["Content-Type"].startswith("application/json")
    assert body == {"message": "No cluster found for name: nope.", "clusterName": "nope"}


def test_success_wire_format_uses_epoch_seconds(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    status, headers, body = raw(sim, "GET", "/clusters/c")
    assert status == 200
    assert UUID.fullmatch(headers["x-amzn-RequestId"])
    assert isinstance(body["cluster"]["createdAt"], float)
    assert abs(body["cluster"]["createdAt"] - sim.now()) < 5


def test_request_id_reaches_response_metadata(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    assert UUID.fullmatch(eks.describe_cluster(name="c")["ResponseMetadata"]["RequestId"])


def test_an_empty_cluster_name_label_is_a_describe_not_a_list(sim: SimulatorHandle) -> None:
    """botocore sends ``describe_cluster(name="")`` as ``GET /clusters/``.

    See docs/eks-behaviour.md §1.3.
    """
    sim.create_cluster("c")
    status, _, body = raw(sim, "GET", "/clusters/")
    assert (status, body["message"]) == (404, "No cluster found for name: .")
    status, _, body = raw(sim, "GET", "/clusters//identity-provider-configs")
    assert status == 404


def test_unknown_routes_are_404_and_counted(sim: SimulatorHandle) -> None:
    status, headers, _ = raw(sim, "PUT", "/clusters/c")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "UnknownOperation"
    assert sim.count("UnknownOperation", 404) == 1


def test_stats_count_per_operation_and_status(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    eks.describe_cluster(name="c")
    eks.describe_cluster(name="c")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name="x")
    assert sim.stats() == {"operations": {"DescribeCluster": {"200": 2, "404": 1}}}
    sim.reset_stats()
    assert sim.stats() == {"operations": {}}


def test_a_user_can_point_boto3_at_it_with_the_standard_variable(
    sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    sim.create_cluster("c")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", sim.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "anything")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "anything")
    client = boto3.client("eks", region_name="us-west-2")
    assert client.list_clusters()["clusters"] == ["c"]


def test_every_success_response_validates_against_its_output_shape(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    """botocore's own validator (the one Stubber uses) accepts all 13 success responses."""
    validator = ParamValidator()
    model = eks.meta.service_model
    seen: set[str] = set()

    def check(operation: str, response: Any) -> Any:
        body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        shape = model.operation_model(operation).output_shape
        assert shape is not None
        report = validator.validate(body, shape)
        assert not report.has_errors(), report.generate_report()
        seen.add(operation)
        return response

    ref: Any = {"type": "oidc", "name": "idp"}
    check("CreateCluster", eks.create_cluster(name="c", roleArn=ROLE, resourcesVpcConfig=VPC))
    sim.advance(1)
    arn = check("DescribeCluster", eks.describe_cluster(name="c"))["cluster"]["arn"]
    check("ListClusters", eks.list_clusters())
    update = check(
        "AssociateIdentityProviderConfig",
        eks.associate_identity_provider_config(
            clusterName="c", oidc=oidc_request(), tags={"a": "b"}
        ),
    )["update"]
    check(
        "DescribeIdentityProviderConfig",
        eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=ref),
    )
    check("ListIdentityProviderConfigs", eks.list_identity_provider_configs(clusterName="c"))
    check("DescribeUpdate", eks.describe_update(name="c", updateId=update["id"]))
    check("ListUpdates", eks.list_updates(name="c"))
    check("TagResource", eks.tag_resource(resourceArn=arn, tags={"x": "y"}))
    check("ListTagsForResource", eks.list_tags_for_resource(resourceArn=arn))
    check("UntagResource", eks.untag_resource(resourceArn=arn, tagKeys=["x"]))
    sim.advance(2)
    check(
        "DisassociateIdentityProviderConfig",
        eks.disassociate_identity_provider_config(clusterName="c", identityProviderConfig=ref),
    )
    sim.advance(2)
    check("DeleteCluster", eks.delete_cluster(name="c"))
    assert seen == set(OPERATIONS)
