"""The metrics' pure parts: one botocore attempt as a labelled response, and the objects'
gauges from the bodies the watch delivers."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ConnectTimeoutError

from eks_oidc_operator.eks.telemetry import AwsResponse, outcome
from eks_oidc_operator.metrics import ObjectGauges, summarise


def test_a_success_a_refusal_a_retry_and_a_network_failure_are_told_apart() -> None:
    event = "response-received.eks.DescribeUpdate"
    ok = outcome(event, {"status_code": 200}, {}, None, {"retries": {"attempt": 1}})
    assert ok == AwsResponse("eks", "DescribeUpdate", "200", "", retry=False)
    refused = outcome(
        event,
        {"status_code": 404},
        {"Error": {"Code": "ResourceNotFoundException"}},
        None,
        {"retries": {"attempt": 1}},
    )
    assert (refused.status, refused.code) == ("404", "ResourceNotFoundException")
    throttled = outcome(
        event,
        {"status_code": 429},
        {"Error": {"Code": "ThrottlingException"}},
        None,
        {"retries": {"attempt": 3}},
    )
    assert (throttled.code, throttled.retry) == ("ThrottlingException", True)
    lost = outcome(event, None, None, ConnectTimeoutError(endpoint_url="http://x"), None)
    assert (lost.status, lost.code) == ("none", "ConnectTimeoutError")


def _body(phase: str, ready: str, reason: str = "Active", update: str = "Successful") -> Any:
    return {
        "spec": {"clusterName": "prod"},
        "status": {
            "phase": phase,
            "region": "eu-west-1",
            "update": {"id": "u", "status": update},
            "conditions": [{"type": "Ready", "status": ready, "reason": reason}],
        },
    }


def test_the_objects_gauges_follow_every_object_and_forget_the_deleted() -> None:
    gauges = ObjectGauges()
    gauges.seen("a", _body("Active", "True"))
    gauges.seen("b", _body("Associating", "False", "Associating", update="InProgress"))
    gauges.seen("c", _body("Pending", "False", "ClusterUpdateInProgress"))
    gauges.seen("a", _body("Replacing", "False", "Replacing"))  # a's newer version replaces it
    gauges.gone("b")
    families = {
        f.name: {tuple(s.labels.values()): s.value for s in f.samples} for f in gauges.collect()
    }
    assert families["eks_oidc_objects"] == {("Pending",): 1, ("Replacing",): 1}
    assert families["eks_oidc_object_conditions"] == {("Ready", "False"): 2}
    assert families["eks_oidc_updates_in_flight"] == {(): 0}
    assert families["eks_oidc_objects_failing"] == {(): 0}
    assert families["eks_oidc_gate_waiters"] == {("eu-west-1", "prod"): 1}


def test_an_object_is_failing_from_its_failed_update_until_it_is_ready_again() -> None:
    """One story from the first failure to success: reported (held before a retry), retrying
    (an automatic retry in flight), Stalled once the retries are spent; then Ready again."""
    failed = _body("Associating", "False", "UpdateFailedUnknown", update="Failed")
    retrying = _body("Associating", "False", "Associating", update="InProgress")
    retrying["status"]["automaticRetries"] = 1
    first_try = _body("Associating", "False", "Associating", update="InProgress")
    stalled = _body("Failed", "False", "UpdateFailedUnknown", update="Failed")
    assert [summarise(b).failing for b in (failed, retrying, stalled)] == [True, True, True]
    assert not summarise(first_try).failing
    assert not summarise(_body("Active", "True")).failing


def test_an_object_without_status_yet_counts_as_phase_none() -> None:
    assert summarise({"spec": {}}).phase == "None"
