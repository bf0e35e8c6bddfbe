"""Simulated time, durations, and every injected fault, observed through boto3.

Includes botocore's own behaviour against the simulator: throttles and 5xx are retried
with the same ``clientRequestToken`` (visible in the simulator's request journal); a 409 is
not retried; a response lost after commit is absorbed by token replay.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eks_oidc_testing.simulator import SimulatorError, SimulatorHandle, oidc_request

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

ASSOCIATE = "AssociateIdentityProviderConfig"
DISASSOCIATE = "DisassociateIdentityProviderConfig"
REF: Any = {"type": "oidc", "name": "idp"}


def fast_retry_client(sim: SimulatorHandle, attempts: int = 3) -> EKSClient:
    """Standard retry mode, as botocore defaults; the backoff stays short for 5xx."""
    return sim.boto3_client(
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts})
    )


def update_status(eks: EKSClient, update_id: str) -> str:
    return eks.describe_update(name="c", updateId=update_id)["update"]["status"]


# ---------------------------------------------------------------- time


def test_advance_completes_an_association_exactly_at_its_deadline(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c")
    sim.configure(associateSeconds=1800)
    update = eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())["update"]
    sim.advance(1799.5)
    assert update_status(eks, update["id"]) == "InProgress"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    sim.advance(0.5)
    assert update_status(eks, update["id"]) == "Successful"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"


def test_the_clock_never_moves_backwards(sim: SimulatorHandle) -> None:
    before = sim.now()
    assert sim.advance(60) == pytest.approx(before + 60)
    with pytest.raises(SimulatorError):
        sim.advance(-1)


def test_realistic_profile_durations_are_15_to_40_minutes_with_jitter(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.configure(profile="realistic")
    durations = []
    for i in range(5):
        sim.create_cluster(f"c{i}")
        update = eks.associate_identity_provider_config(clusterName=f"c{i}", oidc=oidc_request())
        update_id = update["update"]["id"]
        elapsed = 0
        while (
            eks.describe_update(name=f"c{i}", updateId=update_id)["update"]["status"]
            != "Successful"
        ):
            sim.advance(60)
            elapsed += 60
        durations.append(elapsed)
    assert all(900 <= d <= 2460 for d in durations), durations
    assert len(set(durations)) > 1, "jitter: not every association takes the same time"


def test_per_cluster_durations_override_the_default(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("slow")
    sim.create_cluster("quick")
    sim.configure(associateSeconds=100, clusters={"quick": {"associateSeconds": 5}})
    slow = eks.associate_identity_provider_config(clusterName="slow", oidc=oidc_request())
    quick = eks.associate_identity_provider_config(clusterName="quick", oidc=oidc_request())
    sim.advance(5)
    assert eks.describe_update(name="quick", updateId=quick["update"]["id"])["update"][
        "status"
    ] == ("Successful")
    assert eks.describe_update(name="slow", updateId=slow["update"]["id"])["update"]["status"] == (
        "InProgress"
    )


def test_config_rejects_nonsense(sim: SimulatorHandle) -> None:
    with pytest.raises(SimulatorError):
        sim.configure(associateSeconds=-1)
    with pytest.raises(SimulatorError):
        sim.configure(noSuchSetting=1)


# ---------------------------------------------------------------- faults: throttling and 5xx


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("throttle", 429, "ThrottlingException"),
        ("too-many-requests", 429, "TooManyRequestsException"),
        ("server-error", 500, "ServerException"),
        ("unavailable", 503, "ServiceUnavailableException"),
    ],
)
def test_botocore_retries_transient_faults_with_the_same_token(
    sim: SimulatorHandle, kind: str, status: int, code: str
) -> None:
    sim.create_cluster("c")
    sim.faults({"kind": kind, "operation": ASSOCIATE, "count": 2, "retryAfterMs": 0})
    eks = fast_retry_client(sim)
    eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())
    calls = sim.requests(ASSOCIATE)
    assert [c["status"] for c in calls] == [status, status, 200]
    tokens = {c["client_request_token"] for c in calls}
    assert len(tokens) == 1
    assert None not in tokens
    attempts = [re.search(r"attempt=(\d+)", c["attempt"]) for c in calls]
    assert [m.group(1) for m in attempts if m] == ["1", "2", "3"]
    assert len(eks.list_updates(name="c")["updateIds"]) == 1
    del code  # the code is asserted in the next test, where the error surfaces


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("throttle", "ThrottlingException"),
        ("server-error", "ServerException"),
        ("unavailable", "ServiceUnavailableException"),
    ],
)
def test_a_persistent_fault_surfaces_as_its_modeled_exception(
    sim: SimulatorHandle, kind: str, code: str
) -> None:
    sim.create_cluster("c")
    sim.faults({"kind": kind, "operation": "DescribeCluster", "count": 3, "retryAfterMs": 0})
    eks = fast_retry_client(sim)
    with pytest.raises(ClientError) as info:
        eks.describe_cluster(name="c")
    assert info.value.response["Error"]["Code"] == code
    assert isinstance(info.value, getattr(eks.exceptions, code))
    assert sim.count("DescribeCluster") == 3
    eks.describe_cluster(name="c")  # the rule is used up


def test_rate_based_faults(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    eks = sim.boto3_client(max_attempts=1)
    sim.faults({"kind": "throttle", "operation": "DescribeCluster", "rate": 1.0})
    for _ in range(3):
        with pytest.raises(eks.exceptions.ThrottlingException):
            eks.describe_cluster(name="c")
    eks.list_clusters()  # other operations are unaffected
    sim.clear_faults()
    sim.faults({"kind": "server-error", "rate": 0.5})
    outcomes = []
    for _ in range(40):
        try:
            eks.list_clusters()
            outcomes.append(200)
        except ClientError:
            outcomes.append(500)
    assert 5 <= outcomes.count(500) <= 35, outcomes


def test_throttle_can_carry_retry_after(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    sim.faults({"kind": "throttle", "count": 1, "retryAfterMs": 250})
    eks = sim.boto3_client(max_attempts=1)
    with pytest.raises(eks.exceptions.ThrottlingException) as info:
        eks.describe_cluster(name="c")
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-retry-after"] == "250"


def test_a_409_is_not_retried(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    sim.faults({"kind": "phantom-update", "cluster": "c", "seconds": 600})
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())
    assert sim.stats()["operations"][ASSOCIATE] == {"409": 1}


# ---------------------------------------------------------------- domain faults


def test_phantom_update_blocks_mutations_while_the_cluster_looks_active(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c")
    added = sim.faults({"kind": "phantom-update", "cluster": "c", "seconds": 300})
    phantom = added[0]["updateId"]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    with pytest.raises(eks.exceptions.ResourceInUseException) as info:
        eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())
    assert phantom in info.value.response["Error"]["Message"]
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.delete_cluster(name="c")
    assert eks.list_updates(name="c")["updateIds"] == []
    sim.advance(300)
    eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())


def test_next_association_fails_with_the_chosen_error(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    sim.configure(failedConfigGcSeconds=600)
    sim.faults(
        {
            "kind": "fail-association",
            "cluster": "c",
            "errorCode": "ClusterUnreachable",
            "errorMessage": "issuer did not answer",
        }
    )
    update = eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())["update"]
    sim.advance(2)
    failed = eks.describe_update(name="c", updateId=update["id"])["update"]
    assert failed["status"] == "Failed"
    assert failed["errors"] == [
        {
            "errorCode": "ClusterUnreachable",
            "errorMessage": "issuer did not answer",
            "resourceIds": ["idp"],
        }
    ]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    # The failed config lingers (CREATING: the model has no FAILED) until garbage-collected.
    config = eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=REF)
    assert config["identityProviderConfig"]["oidc"]["status"] == "CREATING"
    with pytest.raises(eks.exceptions.InvalidRequestException):
        eks.disassociate_identity_provider_config(clusterName="c", identityProviderConfig=REF)
    sim.advance(600)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=REF)
    # Only the next association failed: a retry succeeds.
    retry = eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())["update"]
    sim.advance(2)
    assert eks.describe_update(name="c", updateId=retry["id"])["update"]["status"] == "Successful"


def config_status(eks: EKSClient) -> str:
    described = eks.describe_identity_provider_config(clusterName="c", identityProviderConfig=REF)
    return described["identityProviderConfig"]["oidc"]["status"]


def test_next_disassociation_fails_and_leaves_the_config_associated(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    sim.create_cluster("c")
    sim.faults(
        {
            "kind": "fail-disassociation",
            "cluster": "c",
            "errorCode": "ClusterUnreachable",
            "errorMessage": "the API server did not answer",
        }
    )
    # A planned disassociation failure is not spent on an association.
    associated = eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())
    sim.advance(2)
    assert update_status(eks, associated["update"]["id"]) == "Successful"

    accepted = eks.disassociate_identity_provider_config(
        clusterName="c", identityProviderConfig=REF, clientRequestToken="tok"
    )
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 200
    update = accepted["update"]
    assert (update["type"], update["status"], update["errors"]) == (DISASSOCIATE, "InProgress", [])
    assert config_status(eks) == "DELETING"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    sim.advance(2)
    failed = eks.describe_update(name="c", updateId=update["id"])["update"]
    assert failed["status"] == "Failed"
    assert failed["errors"] == [
        {
            "errorCode": "ClusterUnreachable",
            "errorMessage": "the API server did not answer",
            "resourceIds": ["idp"],
        }
    ]
    # Nothing was removed: the config is associated again, and stays (no garbage collection).
    assert config_status(eks) == "ACTIVE"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    sim.advance(3600)
    assert config_status(eks) == "ACTIVE"
    # The same token replays the failed update instead of trying again.
    replay = eks.disassociate_identity_provider_config(
        clusterName="c", identityProviderConfig=REF, clientRequestToken="tok"
    )["update"]
    assert (replay["id"], replay["status"], replay["errors"]) == (
        update["id"],
        "Failed",
        failed["errors"],
    )
    assert config_status(eks) == "ACTIVE"
    # Only the next disassociation failed: a new call succeeds and removes the config.
    retry = eks.disassociate_identity_provider_config(clusterName="c", identityProviderConfig=REF)
    sim.advance(2)
    assert update_status(eks, retry["update"]["id"]) == "Successful"
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        config_status(eks)
    assert eks.list_updates(name="c")["updateIds"] == [
        associated["update"]["id"],
        update["id"],
        retry["update"]["id"],
    ]


def test_a_disassociation_failure_has_a_default_error_and_honours_cluster_and_count(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    for name in ("c", "other"):
        sim.create_cluster(name)
        eks.associate_identity_provider_config(clusterName=name, oidc=oidc_request())
    sim.advance(2)
    added = sim.faults({"kind": "fail-disassociation", "cluster": "c", "count": 2})
    assert added == [
        {
            "kind": "fail-disassociation",
            "cluster": "c",
            "error_code": "Unknown",
            "error_message": "The identity provider config could not be removed from the cluster",
            "remaining": 2,
        }
    ]
    # A rejected call does not use the fault up.
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.disassociate_identity_provider_config(
            clusterName="c", identityProviderConfig={"type": "oidc", "name": "absent"}
        )
    elsewhere = eks.disassociate_identity_provider_config(
        clusterName="other", identityProviderConfig=REF
    )
    sim.advance(2)
    assert (
        eks.describe_update(name="other", updateId=elsewhere["update"]["id"])["update"]["status"]
        == "Successful"
    )
    for remaining in (1, 0):
        update = eks.disassociate_identity_provider_config(
            clusterName="c", identityProviderConfig=REF
        )["update"]
        sim.advance(2)
        errors = eks.describe_update(name="c", updateId=update["id"])["update"]["errors"]
        assert [e["errorCode"] for e in errors] == ["Unknown"]
        assert [f["remaining"] for f in sim.active_faults()["failDisassociations"]] == (
            [remaining] if remaining else []
        )
    last = eks.disassociate_identity_provider_config(clusterName="c", identityProviderConfig=REF)
    sim.advance(2)
    assert update_status(eks, last["update"]["id"]) == "Successful"


def test_lost_response_after_commit_is_absorbed_by_token_replay(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    sim.faults({"kind": "lost-response", "operation": ASSOCIATE, "count": 1})
    eks = fast_retry_client(sim)
    result = eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())
    assert result["ResponseMetadata"]["RetryAttempts"] == 1
    calls = sim.requests(ASSOCIATE)
    assert [c["status"] for c in calls] == [500, 200]
    assert calls[0]["client_request_token"] == calls[1]["client_request_token"]
    assert eks.list_updates(name="c")["updateIds"] == [result["update"]["id"]]


def test_lost_response_without_retries_leaves_the_change_committed(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    sim.faults({"kind": "lost-response", "operation": ASSOCIATE, "count": 1})
    eks = sim.boto3_client(max_attempts=1)
    with pytest.raises(eks.exceptions.ServerException):
        eks.associate_identity_provider_config(
            clusterName="c", oidc=oidc_request(), clientRequestToken="mine"
        )
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    again = eks.associate_identity_provider_config(
        clusterName="c", oidc=oidc_request(), clientRequestToken="mine"
    )
    assert eks.list_updates(name="c")["updateIds"] == [again["update"]["id"]]


def test_faults_can_be_listed_and_cleared(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c")
    sim.faults(
        {"kind": "throttle", "rate": 1.0},
        {"kind": "phantom-update", "cluster": "c", "seconds": 60},
        {"kind": "fail-association"},
        {"kind": "fail-disassociation", "cluster": "c", "errorCode": "AccessDenied"},
        {"kind": "deny-assume-role", "roleArn": "arn:aws:iam::111111111111:role/r", "count": 1},
    )
    listed = sim.active_faults()
    assert listed["rules"] == [{"kind": "throttle", "operation": "*", "rate": 1.0}]
    assert listed["assumeRole"] == [
        {"kind": "deny-assume-role", "roleArn": "arn:aws:iam::111111111111:role/r", "count": 1}
    ]
    assert set(listed["phantomUpdates"]) == {"c"}
    assert len(listed["failAssociations"]) == 1
    assert listed["failAssociations"][0]["error_code"] == "Unknown"
    assert [(f["cluster"], f["error_code"]) for f in listed["failDisassociations"]] == [
        ("c", "AccessDenied")
    ]
    sim.clear_faults()
    assert sim.active_faults() == {
        "rules": [],
        "assumeRole": [],
        "failAssociations": [],
        "failDisassociations": [],
        "phantomUpdates": {},
    }
    eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())
    sim.advance(2)
    eks.disassociate_identity_provider_config(clusterName="c", identityProviderConfig=REF)
    sim.advance(2)
    assert [update_status(eks, u) for u in eks.list_updates(name="c")["updateIds"]] == [
        "Successful",
        "Successful",
    ]


def test_reset_forgets_planned_disassociation_failures(sim: SimulatorHandle) -> None:
    sim.faults({"kind": "fail-disassociation"})
    assert len(sim.active_faults()["failDisassociations"]) == 1
    sim.reset()
    assert sim.active_faults()["failDisassociations"] == []


def test_a_bad_fault_is_rejected(sim: SimulatorHandle) -> None:
    with pytest.raises(SimulatorError):
        sim.faults({"kind": "throttle"})  # neither count nor rate
    with pytest.raises(SimulatorError):
        sim.faults({"kind": "meteor", "count": 1})
