"""Gathering as pure generators: driven here with answers of the test's own, no EKS and no
fake client. Each test says which reads a situation costs and what the observation becomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eks_oidc_operator.models.eks import ObservedCluster
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.reading.observe import observe
from eks_oidc_operator.reconcile.reading.reads import (
    DescribeCluster,
    DescribeConfig,
    DescribeUpdate,
    ListConfigs,
    Read,
)
from eks_oidc_operator.reconcile.replacement.successor import successor_name
from tests.support.factories import config, obj, ours, update

Answer = Callable[[Read], Any]


def _drive(base: Observation, answer: Answer) -> tuple[list[Read], Observation]:
    """Every read ``observe`` asks for, in order, and the observation it returns."""
    asked: list[Read] = []
    reading = observe(base)
    try:
        read = next(reading)
        while True:
            asked.append(read)
            read = reading.send(answer(read))
    except StopIteration as done:
        return asked, done.value


def _cluster(version: str = "1.31") -> ObservedCluster:
    return ObservedCluster(name="prod", status="ACTIVE", version=version)


def test_a_new_object_reads_only_the_cluster_and_its_configs_where_one_is_allowed() -> None:
    answers = {DescribeCluster("prod"): _cluster("1.31"), ListConfigs("prod"): ["other"]}
    asked, obs = _drive(Observation(obj()), answers.__getitem__)
    assert asked == [DescribeCluster("prod"), ListConfigs("prod")]
    assert obs.config_unread
    assert obs.neighbours == ("other",)


def test_an_update_in_flight_costs_one_describe_update_and_nothing_else() -> None:
    status = ours(
        update={"id": "u-1", "type": "AssociateIdentityProviderConfig", "status": "InProgress"}
    )
    asked, obs = _drive(Observation(obj(status=status)), lambda read: update())
    assert asked == [DescribeUpdate("prod", "u-1")]
    assert obs.update is not None
    assert obs.update.status == "InProgress"
    assert obs.config is None


def test_changed_settings_look_for_the_successor_then_for_room_next_to_the_old_config() -> None:
    resource = obj(status=ours(), generation=2, oidc={"issuerUrl": "https://new.example.com"})
    new = successor_name("corp", resource.spec.oidc)
    answers: dict[Read, Any] = {
        DescribeConfig("prod", "corp"): config(),
        DescribeConfig("prod", new): None,
        DescribeCluster("prod"): _cluster("1.33"),
        ListConfigs("prod"): ["corp"],
    }
    asked, obs = _drive(Observation(resource), answers.__getitem__)
    assert asked == list(answers)
    assert obs.config_name == new
    assert obs.config is None
    assert obs.previous is not None
    assert obs.previous.name == "corp"
    assert obs.delete_first is None
