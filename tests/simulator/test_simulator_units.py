"""The simulator's pure parts, without HTTP: clock, pagination, faults, config, protocol, state."""

from __future__ import annotations

import random

import pytest

from eks_simulator.clock import SimClock
from eks_simulator.config import ConfigPatch, DurationRange, SimConfig
from eks_simulator.errors import EksError
from eks_simulator.faults import FaultPlan, FaultRule
from eks_simulator.pagination import paginate
from eks_simulator.protocol import EksProtocol
from eks_simulator.state import EksState, NewCluster, PlannedFailure, StateSnapshot


def status_of(state: EksState, name: str) -> str:
    """A cluster's status, read fresh (keeps mypy from narrowing across ticks)."""
    return state.clusters[name].status


@pytest.fixture(scope="module")
def protocol() -> EksProtocol:
    return EksProtocol()


def test_wall_clock_follows_wall_time_plus_advances() -> None:
    wall = [1000.0]
    clock = SimClock(wall=lambda: wall[0])
    wall[0] += 5
    assert clock.now() == 1005
    clock.advance(100)
    assert clock.now() == 1105
    restored = SimClock(wall=lambda: wall[0])
    restored.restore(clock.snapshot())
    assert restored.now() == 1105


def test_manual_clock_stands_still_until_advanced() -> None:
    wall = [1000.0]
    clock = SimClock(manual=True, wall=lambda: wall[0])
    wall[0] += 50
    assert clock.now() == 1000
    assert clock.advance(7.5) == 1007.5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_pagination_tokens_are_opaque_and_end_with_none() -> None:
    keys = [f"k{i}" for i in range(5)]
    page, token = paginate(keys, max_results=2, next_token=None)
    assert page == ["k0", "k1"]
    assert token is not None
    assert "k1" not in token
    page, token = paginate(keys, max_results=2, next_token=token)
    assert page == ["k2", "k3"]
    page, last = paginate(keys, max_results=2, next_token=token)
    assert (page, last) == (["k4"], None)
    assert paginate(keys, max_results=None, next_token="") == (keys, None)
    with pytest.raises(EksError):
        paginate(keys, max_results=2, next_token="garbage!")


def test_a_counted_fault_fires_exactly_n_times_then_disappears() -> None:
    plan = FaultPlan([FaultRule(kind="throttle", operation="DescribeCluster", count=2)])
    assert plan.before("ListClusters") is None
    first = plan.before("DescribeCluster")
    assert first is not None
    assert (first.code, first.status) == ("ThrottlingException", 429)
    assert plan.before("DescribeCluster") is not None
    assert plan.before("DescribeCluster") is None
    assert plan.rules == []


def test_lost_response_fires_only_after_commit() -> None:
    plan = FaultPlan([FaultRule(kind="lost-response", count=1)])
    assert plan.before("AssociateIdentityProviderConfig") is None
    lost = plan.after_commit("AssociateIdentityProviderConfig")
    assert lost is not None
    assert lost.status == 500


def test_fault_rule_needs_count_or_rate() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        FaultRule(kind="throttle")
    with pytest.raises(ValueError, match="exactly one"):
        FaultRule(kind="throttle", count=1, rate=0.5)


def test_duration_ranges_accept_numbers_and_pairs() -> None:
    assert DurationRange.model_validate(5) == DurationRange(low=5, high=5)
    span = DurationRange.model_validate([900, 2400])
    samples = {span.sample(random.Random(i)) for i in range(20)}
    assert all(900 <= s <= 2400 for s in samples)
    assert len(samples) > 1
    with pytest.raises(ValueError, match="below low"):
        DurationRange.model_validate([10, 5])


def test_config_patch_merges_per_cluster_overrides() -> None:
    config = ConfigPatch.model_validate(
        {"associateSeconds": 60, "clusters": {"a": {"disassociateSeconds": 5}}}
    ).apply(SimConfig())
    config = ConfigPatch.model_validate({"clusters": {"a": {"associateSeconds": 7}}}).apply(config)
    timings = config.timings_for("a")
    assert timings.associate_seconds.low == 7
    assert timings.disassociate_seconds.low == 5
    assert config.timings_for("b").associate_seconds.low == 60
    realistic = ConfigPatch(profile="realistic").apply(config)
    assert realistic.timings.associate_seconds == DurationRange(low=900, high=2400)


def test_routes_decode_labels_and_keep_encoded_slashes_inside_arns(protocol: EksProtocol) -> None:
    routed = protocol.route("GET", "/tags/arn%3Aaws%3Aeks%3Aus-west-2%3A1%3Acluster%2Fmy")
    assert routed is not None
    operation, labels = routed
    assert operation.name == "ListTagsForResource"
    assert labels == {"resourceArn": "arn:aws:eks:us-west-2:1:cluster/my"}
    routed = protocol.route("POST", "/clusters/c/identity-provider-configs/describe")
    assert routed is not None
    assert routed[0].name == "DescribeIdentityProviderConfig"
    routed = protocol.route("GET", "/clusters/c/identity-provider-configs")
    assert routed is not None
    assert routed[0].name == "ListIdentityProviderConfigs"
    assert protocol.route("PATCH", "/clusters/c") is None


def test_success_bodies_may_only_carry_modeled_members(protocol: EksProtocol) -> None:
    operation = protocol.model.operation_model("ListTagsForResource")
    assert protocol.success(operation, {"tags": {}}, "rid").body == b'{"tags":{}}'
    with pytest.raises(ValueError, match="no member 'surprise'"):
        protocol.success(operation, {"tags": {}, "surprise": 1}, "rid")


def test_errors_drop_unmodeled_members(protocol: EksProtocol) -> None:
    error = EksError("NotFoundException", "gone", clusterName="c")
    response = protocol.error(error, "rid")
    assert response.status == 404
    assert response.body == b'{"message":"gone"}'  # NotFoundException models no clusterName


def test_transitions_apply_at_their_own_deadline_in_order() -> None:
    patch = ConfigPatch.model_validate({"associateSeconds": 10, "failedConfigGcSeconds": 5})
    state = EksState(patch.apply(SimConfig()))
    state.new_cluster(NewCluster("c"), now=0)
    oidc = {"identityProviderConfigName": "i", "issuerUrl": "https://i.example", "clientId": "k"}
    state.plan_failure(PlannedFailure())
    update = state.execute("AssociateIdentityProviderConfig", {"clusterName": "c", "oidc": oidc}, 0)
    state.tick(9.99)
    assert status_of(state, "c") == "UPDATING"
    # One jump past both deadlines: the failure at 10, then garbage collection at 10 + 5.
    state.tick(100)
    assert state.clusters["c"].updates[update["update"]["id"]].status == "Failed"
    assert state.clusters["c"].configs == {}
    assert status_of(state, "c") == "ACTIVE"


def test_a_planned_failure_saved_without_an_operation_still_fails_an_association() -> None:
    # State files written before disassociations could be failed carry no "operation".
    saved = {"clusters": [], "pending_failures": [{"cluster": None, "remaining": 1}]}
    state = EksState(SimConfig())
    state.restore(StateSnapshot.model_validate(saved))
    state.new_cluster(NewCluster("c"), now=0)
    oidc = {"identityProviderConfigName": "i", "issuerUrl": "https://i.example", "clientId": "k"}
    update = state.execute("AssociateIdentityProviderConfig", {"clusterName": "c", "oidc": oidc}, 0)
    state.tick(100)
    assert state.clusters["c"].updates[update["update"]["id"]].status == "Failed"
    assert state.pending_failures == []


def test_a_stale_transition_never_touches_a_recreated_cluster() -> None:
    state = EksState(SimConfig())
    state.new_cluster(NewCluster("c", status="CREATING"), now=0)  # becomes ACTIVE at t=1
    state.remove_cluster("c")
    state.new_cluster(NewCluster("c", status="CREATING"), now=0.5)  # becomes ACTIVE at t=1.5
    state.tick(1.2)
    assert status_of(state, "c") == "CREATING"
    state.tick(1.5)
    assert status_of(state, "c") == "ACTIVE"
