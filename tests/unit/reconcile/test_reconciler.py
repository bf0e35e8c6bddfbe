"""reconcile(): which EKS calls one pass makes, and the status and events it produces.

EKS is a small in-memory fake of the EksPort protocol here (the e2e tests use the simulator);
what matters is the number and kind of calls, and that errors land in status the right way.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from eks_oidc_operator.eks.errors import EksError
from eks_oidc_operator.eks.types import ObservedConfig, ObservedUpdate
from eks_oidc_operator.models import OidcConfigSpec, OidcIdentityProvider
from eks_oidc_operator.reconcile.reconciler import ClusterGate, Context, Outcome, reconcile
from eks_oidc_operator.reconcile.timing import Timings
from tests.unit.reconcile.factories import ARN, NOW, config, obj, ours, update


@dataclass
class FakeEks:
    cluster_exists: bool = True
    config: ObservedConfig | None = None
    updates: dict[str, ObservedUpdate] = field(default_factory=dict)
    fail: dict[str, EksError] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    recovered: ObservedUpdate | None = None

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def describe_cluster(self, cluster: str) -> object | None:
        self._call("DescribeCluster")
        return object() if self.cluster_exists else None

    def describe_config(self, cluster: str, name: str) -> ObservedConfig | None:
        self._call("DescribeIdentityProviderConfig")
        return self.config

    def describe_update(self, cluster: str, update_id: str) -> ObservedUpdate | None:
        self._call("DescribeUpdate")
        return self.updates.get(update_id)

    def find_config_update(self, cluster: str, name: str, type: str) -> ObservedUpdate | None:
        self._call("FindUpdate")
        return self.recovered

    def associate(
        self, cluster: str, name: str, oidc: OidcConfigSpec, tags: Mapping[str, str], token: str
    ) -> ObservedUpdate:
        self._call("AssociateIdentityProviderConfig")
        self.config = config("CREATING")
        self.updates["u-new"] = update(id_="u-new")
        return self.updates["u-new"]

    def disassociate(self, cluster: str, name: str, token: str) -> ObservedUpdate:
        self._call("DisassociateIdentityProviderConfig")
        return update(id_="u-del", type_="DisassociateIdentityProviderConfig")

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._call("TagResource")

    def untag(self, arn: str, keys: Collection[str]) -> None:
        self._call("UntagResource")


def _ctx(gate: ClusterGate | None = None, attempt: int = 0) -> Context:
    return Context(
        region="eu-west-1",
        now=NOW,
        timings=Timings(),
        gate=gate or ClusterGate(),
        rng=random.Random(0),
        attempt=attempt,
    )


def _run(resource: OidcIdentityProvider, eks: FakeEks, **kwargs: Any) -> Outcome:
    return reconcile(resource, eks, _ctx(**kwargs))


def test_a_new_object_is_associated_and_the_update_id_stored() -> None:
    eks = FakeEks()
    outcome = _run(obj(), eks)
    assert eks.calls == [
        "DescribeIdentityProviderConfig",
        "DescribeCluster",
        "AssociateIdentityProviderConfig",
    ]
    assert outcome.status.update is not None
    assert outcome.status.update.id == "u-new"
    assert outcome.status.config_status == "CREATING"
    assert outcome.in_flight
    assert [e.reason for e in outcome.events] == ["Associating"]


def test_a_poll_while_the_update_runs_is_one_describe_update() -> None:
    eks = FakeEks(updates={"u-1": update()})
    resource = obj(
        status={
            "update": {"id": "u-1", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    outcome = _run(resource, eks)
    assert eks.calls == ["DescribeUpdate"]
    assert outcome.in_flight
    assert outcome.events == []


def test_the_poll_that_sees_success_makes_it_ready() -> None:
    eks = FakeEks(updates={"u-1": update("Successful")}, config=config())
    resource = obj(
        status={
            "update": {"id": "u-1", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    outcome = _run(resource, eks)
    assert eks.calls == ["DescribeUpdate", "DescribeIdentityProviderConfig"]
    assert outcome.status.phase == "Active"
    assert outcome.status.identity_provider_config_arn == ARN
    assert not outcome.in_flight
    assert [e.reason for e in outcome.events] == ["Adopted"] or [
        e.reason for e in outcome.events
    ] == ["Associated"]


def test_a_settled_pass_is_one_describe_config() -> None:
    eks = FakeEks(config=config())
    outcome = _run(obj(status=ours(update={"id": "u-1", "status": "Successful"})), eks)
    assert eks.calls == ["DescribeIdentityProviderConfig"]
    assert outcome.requeue_after is None
    assert outcome.events == []


def test_after_a_crash_the_update_is_recovered_not_repeated() -> None:
    eks = FakeEks(config=config("CREATING"), recovered=update(id_="u-lost"))
    outcome = _run(obj(), eks)
    assert "AssociateIdentityProviderConfig" not in eks.calls
    assert outcome.status.update is not None
    assert outcome.status.update.id == "u-lost"
    assert outcome.status.identity_provider_config_arn == ARN


def test_a_409_is_retried_with_backoff_and_reported_as_cluster_busy() -> None:
    busy = EksError(
        "ResourceInUseException",
        "Cannot AssociateIdentityProviderConfig because "
        "cluster prod currently has update x in progress",
        operation="AssociateIdentityProviderConfig",
        http_status=409,
    )
    eks = FakeEks(fail={"AssociateIdentityProviderConfig": busy})
    outcome = _run(obj(), eks)
    reconciling = next(c for c in outcome.status.conditions if c.type == "Reconciling")
    assert (reconciling.status, reconciling.reason) == ("True", "ClusterUpdateInProgress")
    assert "currently has update x in progress" in reconciling.message
    assert outcome.requeue_after is not None
    assert 8 <= outcome.requeue_after <= 12
    assert [(e.type, e.reason) for e in outcome.events] == [("Warning", "ClusterUpdateInProgress")]


def test_an_invalid_parameter_stalls_without_retry() -> None:
    bad = EksError(
        "InvalidParameterException",
        "The Identity Provider URL cannot be same as OpenID Connect (OIDC) issuer URL",
        operation="AssociateIdentityProviderConfig",
        http_status=400,
    )
    outcome = _run(obj(), FakeEks(fail={"AssociateIdentityProviderConfig": bad}))
    stalled = next(c for c in outcome.status.conditions if c.type == "Stalled")
    assert (stalled.status, stalled.reason) == ("True", "InvalidParameterException")
    assert outcome.requeue_after is None
    assert outcome.status.phase == "Failed"


def test_the_gate_makes_a_second_object_on_the_same_cluster_wait_without_calling() -> None:
    gate = ClusterGate()
    first = FakeEks()
    _run(obj(), first, gate=gate)
    second = FakeEks()
    other = obj().model_copy(
        update={"metadata": obj().metadata.model_copy(update={"uid": "another", "name": "other"})}
    )
    outcome = _run(other, second, gate=gate)
    assert "AssociateIdentityProviderConfig" not in second.calls
    ready = next(c for c in outcome.status.conditions if c.type == "Reconciling")
    assert ready.reason == "ClusterUpdateInProgress"
    assert outcome.requeue_after is not None


def test_the_gate_is_released_when_the_update_ends() -> None:
    gate = ClusterGate()
    resource = obj(
        status={
            "update": {"id": "u-new", "status": "InProgress"},
            "configStatus": "CREATING",
            "phase": "Associating",
        }
    )
    assert gate.acquire(("eu-west-1", "prod"), resource.metadata.uid or "") is None
    _run(resource, FakeEks(updates={"u-new": update("Successful")}, config=config()), gate=gate)
    assert gate.acquire(("eu-west-1", "prod"), "someone-else") is None


def test_tags_are_synced_in_place() -> None:
    eks = FakeEks(config=config(tags={"old": "1"}))
    outcome = _run(obj(status=ours(), tags={"new": "2"}), eks)
    assert eks.calls == ["DescribeIdentityProviderConfig", "TagResource", "UntagResource"]
    assert outcome.status.phase == "Active"
    assert [e.reason for e in outcome.events] == ["TagsUpdated"]


def test_deletion_disassociates_then_polls_then_releases() -> None:
    eks = FakeEks(config=config())
    outcome = _run(obj(status=ours(), deleting=True), eks)
    assert eks.calls[-1] == "DisassociateIdentityProviderConfig"
    assert outcome.requeue_after is not None
    assert not outcome.release
    gone = _run(obj(status=ours(), deleting=True), FakeEks(config=None))
    assert gone.release


def test_credential_failures_stall_and_retry_slowly() -> None:
    error = EksError(
        "NoCredentialsError",
        "Unable to locate credentials",
        operation="DescribeIdentityProviderConfig",
    )
    outcome = _run(obj(), FakeEks(fail={"DescribeIdentityProviderConfig": error}))
    stalled = next(c for c in outcome.status.conditions if c.type == "Stalled")
    assert (stalled.status, stalled.reason) == ("True", "NoCredentials")
    assert outcome.requeue_after is not None
    assert outcome.requeue_after >= 48


def test_adopting_an_active_config_records_the_update_that_created_it() -> None:
    created = update("Successful", id_="u-before-crash")
    eks = FakeEks(config=config(), recovered=created)
    outcome = _run(obj(), eks)
    assert eks.calls == ["DescribeIdentityProviderConfig", "FindUpdate"]
    assert outcome.status.update is not None
    assert outcome.status.update.id == "u-before-crash"
    assert outcome.status.phase == "Active"
    assert outcome.status.identity_provider_config_arn == ARN
    # Once the ARN is recorded, settled passes do not look again.
    again = FakeEks(config=config())
    _run(obj(status=ours()), again)
    assert again.calls == ["DescribeIdentityProviderConfig"]
