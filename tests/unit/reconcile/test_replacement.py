"""Make-before-break replacement, pass by pass, against a small in-memory EKS of many configs.

Each test drives whole passes (``reconcile``) the way the handlers do: the plan's status is
written back to the object before the next pass, and EKS moves on between passes (a CREATING
config becomes ACTIVE, a DELETING one goes). What is checked is what a user of the cluster
would see: which configs exist, whether one of ours was ACTIVE throughout, and how the object
reports it. The e2e tests run the same against the simulator and the real API server.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from eks_oidc_operator.models import EksUpdate, OidcConfigSpec, OidcIdentityProvider
from eks_oidc_operator.models.eks import EksError, ObservedCluster, ObservedConfig
from eks_oidc_operator.reconcile.observation import Checks
from eks_oidc_operator.reconcile.plan import Plan
from eks_oidc_operator.reconcile.replacement.successor import (
    delete_first_reason,
    is_successor_of,
    successor_name,
)
from eks_oidc_operator.reconcile.rules.failures import MAX_AUTOMATIC_RETRIES
from eks_oidc_operator.runtime.pacing.gate import ClusterGate
from eks_oidc_operator.runtime.reconciler import reconcile
from tests.support.factories import NOW, config, ctx, obj

OLD = {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"}
NEW = {"issuerUrl": "https://login.new.example.com", "clientId": "kubernetes"}


@dataclass
class ToyEks:
    """EKS with many configs per cluster, updates that end when :meth:`advance` is called, and
    the limits and the same-issuer rule of a real cluster of ``version``."""

    version: str = "1.33"
    cluster_status: str = "ACTIVE"
    configs: dict[str, ObservedConfig] = field(default_factory=dict)
    updates: dict[str, EksUpdate] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    refuse_associate: EksError | None = None
    lose_answer_of: str | None = None
    """An operation whose call succeeds in EKS but whose answer never reaches the operator
    (a crash right after it): the pass raises instead."""

    def _call(self, name: str) -> None:
        self.calls.append(name)

    def advance(self) -> None:
        """EKS finishes every update: CREATING configs become ACTIVE, DELETING ones go."""
        for name, found in list(self.configs.items()):
            if found.status == "CREATING":
                self.configs[name] = found.model_copy(update={"status": "ACTIVE"})
            elif found.status == "DELETING":
                del self.configs[name]
        for key, one in self.updates.items():
            self.updates[key] = one.model_copy(update={"status": "Successful"})

    def describe_cluster(self, cluster: str) -> ObservedCluster | None:
        self._call("DescribeCluster")
        return ObservedCluster(name=cluster, status=self.cluster_status, version=self.version)

    def list_configs(self, cluster: str) -> list[str]:
        self._call("ListIdentityProviderConfigs")
        return list(self.configs)

    def describe_config(self, cluster: str, name: str) -> ObservedConfig | None:
        self._call("DescribeIdentityProviderConfig")
        return self.configs.get(name)

    def describe_update(self, cluster: str, update_id: str) -> EksUpdate | None:
        self._call("DescribeUpdate")
        return self.updates.get(update_id)

    def find_config_update(self, cluster: str, name: str, type: str) -> EksUpdate | None:
        self._call("FindUpdate")
        return next(
            (u for u in self.updates.values() if u.type == type and name in u.config_names), None
        )

    def associate(
        self, cluster: str, name: str, oidc: OidcConfigSpec, tags: Mapping[str, str], token: str
    ) -> EksUpdate:
        self._call("AssociateIdentityProviderConfig")
        if self.refuse_associate is not None:
            raise self.refuse_associate
        assert name not in self.configs, f"a second config named {name}"
        assert all(c.issuer_url != oidc.issuer_url for c in self.configs.values())
        limit = 10 if self.version >= "1.32" else 1
        assert len(self.configs) < limit, "past the provider limit"
        self.configs[name] = config(
            "CREATING",
            arn=f"arn:aws:eks:eu-west-1:123456789012:identityproviderconfig/prod/oidc/{name}/x",
            name=name,
            issuer_url=oidc.issuer_url,
            client_id=oidc.client_id,
            owner=None,
            tags=dict(tags),
        )
        return self._started(name, "AssociateIdentityProviderConfig")

    def disassociate(self, cluster: str, name: str, token: str) -> EksUpdate:
        self._call("DisassociateIdentityProviderConfig")
        self.configs[name] = self.configs[name].model_copy(update={"status": "DELETING"})
        return self._started(name, "DisassociateIdentityProviderConfig")

    def _started(self, name: str, type_: str) -> EksUpdate:
        started = EksUpdate(
            id=f"u-{len(self.updates) + 1}", type=type_, status="InProgress", config_names=(name,)
        )
        self.updates[started.id] = started
        if self.lose_answer_of == type_:
            self.lose_answer_of = None
            raise RuntimeError("crashed before the answer was recorded")
        return started

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._call("TagResource")

    def untag(self, arn: str, keys: Collection[str]) -> None:
        self._call("UntagResource")

    def active_ours(self) -> list[str]:
        return [n for n, c in self.configs.items() if c.status == "ACTIVE"]


class Driver:
    """Passes of one object, its status written back between them, as the handlers do."""

    def __init__(self, eks: ToyEks, **spec: Any) -> None:
        self.eks, self.spec = eks, spec
        self.status: dict[str, Any] = {}
        self.generation = 1
        self.deleting = False
        self.gate = ClusterGate()
        self.plans: list[Plan] = []
        self.now = NOW

    @property
    def obj(self) -> OidcIdentityProvider:
        return obj(
            status=self.status, generation=self.generation, deleting=self.deleting, **self.spec
        )

    def change(self, oidc: dict[str, str]) -> None:
        self.spec = {**self.spec, "oidc": oidc}
        self.generation += 1

    def step(self) -> Plan:
        now = ctx(now=self.now)
        result = reconcile(self.obj, now, lambda: self.eks, self.gate, Checks(may_adopt=True))
        self.status = result.status.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.plans.append(result)
        return result

    def run(self, passes: int = 12, *, check: bool = True, most: int | None = None) -> Plan:
        """Passes until Ready (or released), EKS finishing its work after each; with ``check``,
        asserting that one config of ours was ACTIVE after every pass (and with ``most``, that
        the cluster never held more configs than that)."""
        for _ in range(passes):
            result = self.step()
            if check:
                assert self.eks.active_ours(), f"no ACTIVE config after {result.rule}"
            if most is not None:
                assert len(self.eks.configs) <= most, list(self.eks.configs)
            if result.verdict.kind.value in ("Ready", "Release"):
                return result
            self.eks.advance()
        raise AssertionError(f"not settled: {[p.rule for p in self.plans]}")


def _ready(driver: Driver) -> None:
    driver.run(check=False)
    assert driver.eks.active_ours() == ["corp"]


def _changed(version: str = "1.33") -> tuple[ToyEks, Driver]:
    """An object Ready with the ``OLD`` settings on a cluster of ``version``, whose spec has
    just changed to ``NEW`` (no pass has seen the change yet)."""
    eks = ToyEks(version=version)
    driver = Driver(eks, oidc=OLD)
    _ready(driver)
    driver.change(NEW)
    return eks, driver


def _crash_after(driver: Driver, eks: ToyEks, lost: str) -> None:
    """Passes until the call ``lost`` is made and the operator dies before its answer is
    recorded: status stays as the pass before left it."""
    eks.lose_answer_of = lost
    kept = dict(driver.status)
    for _ in range(6):
        try:
            driver.step()
        except RuntimeError:
            driver.status = kept  # the crashed pass wrote nothing
            return
        kept = dict(driver.status)
        eks.advance()
    raise AssertionError("the call was never made")


def test_a_replacement_on_1_33_keeps_a_config_active_throughout() -> None:
    eks, driver = _changed()
    done = driver.run()
    name = successor_name("corp", driver.obj.spec.oidc)
    assert list(eks.configs) == [name]
    assert eks.configs[name].issuer_url == NEW["issuerUrl"]
    assert (done.status.identity_provider_config_name, done.status.serving_config_name) == (
        name,
        name,
    )
    assert done.status.previous_config is None
    # Associate the new one next to the old; once it is ACTIVE, disassociate the old one.
    assert [p.rule for p in driver.plans[2:]] == ["config_missing", "previous_retires", "in_sync"]


def test_while_both_exist_status_records_both_and_the_column_shows_the_old_one() -> None:
    _eks, driver = _changed()
    started = driver.step()
    assert started.rule == "config_missing"
    assert started.status.previous_config is not None
    assert started.status.previous_config.name == "corp"
    assert started.status.serving_config_name == "corp"
    assert started.status.phase == "Replacing"
    assert "keeps serving" in started.status.conditions[0].message


@pytest.mark.parametrize(
    ("version", "oidc", "why"),
    [
        ("1.31", NEW, "allows one identity provider config"),
        ("1.33", {**OLD, "clientId": "other"}, "the issuer URL is unchanged"),
    ],
)
def test_where_eks_cannot_hold_both_the_outage_is_announced_before_it_starts(
    version: str, oidc: dict[str, str], why: str
) -> None:
    eks = ToyEks(version=version)
    driver = Driver(eks, oidc=OLD)
    _ready(driver)
    driver.change(oidc)
    announced = driver.step()
    assert announced.rule == "oidc_changed"
    assert announced.calls == ()
    assert list(eks.configs) == ["corp"]
    assert eks.active_ours() == ["corp"]
    warning = [e for e in announced.events if e.reason == "ReplacementOutage"]
    assert len(warning) == 1
    assert why in warning[0].message
    ready = next(c for c in announced.status.conditions if c.type == "Ready")
    assert (ready.reason, why in ready.message) == ("ReplacementOutage", True)
    started = driver.step()
    assert [c.__class__.__name__ for c in started.calls] == ["Disassociate"]
    driver.eks.advance()
    driver.run(check=False)
    assert list(eks.configs) == ["corp"]
    assert eks.configs["corp"].client_id == oidc["clientId"]


def test_at_the_provider_limit_the_replacement_deletes_first() -> None:
    eks = ToyEks()
    driver = Driver(eks, oidc=OLD)
    _ready(driver)
    for n in range(9):
        eks.configs[f"other-{n}"] = config(
            name=f"other-{n}", arn=f"arn-{n}", owner="x/y", issuer_url=f"https://{n}.example"
        )
    driver.change(NEW)
    announced = driver.step()
    assert "already has 10 identity provider configs" in announced.verdict.message


def test_a_size_refusal_of_the_new_config_falls_back_and_announces_first() -> None:
    eks, driver = _changed()
    eks.refuse_associate = EksError(
        "InvalidRequestException",
        "would exceed the combined size limit of 12288 bytes",
        operation="AssociateIdentityProviderConfig",
    )
    refused = driver.step()
    assert (refused.rule, refused.verdict.reason) == ("successor_refused", "ReplacementOutage")
    assert refused.status.replacement_fallback is not None
    eks.refuse_associate = None
    started = driver.step()
    assert started.rule == "oidc_changed"
    assert [(c.__class__.__name__, getattr(c, "name", "")) for c in started.calls] == [
        ("Disassociate", "corp")
    ]
    eks.advance()
    driver.run(check=False)
    assert list(eks.configs) == ["corp"]
    assert driver.status.get("replacementFallback") is not None  # kept for the generation


@pytest.mark.parametrize(
    "lost", ["AssociateIdentityProviderConfig", "DisassociateIdentityProviderConfig"]
)
def test_a_crash_after_either_call_resumes_without_a_third_config(lost: str) -> None:
    eks, driver = _changed()
    _crash_after(driver, eks, lost)
    eks.advance()
    driver.run()
    name = successor_name("corp", driver.obj.spec.oidc)
    assert list(eks.configs) == [name]
    assert eks.calls.count("AssociateIdentityProviderConfig") == 2  # the first, and the new one


@pytest.mark.parametrize(
    ("lost", "old_gone"),
    [
        ("AssociateIdentityProviderConfig", False),
        ("DisassociateIdentityProviderConfig", False),
        ("DisassociateIdentityProviderConfig", True),
    ],
)
def test_a_crash_with_status_lost_resumes_from_what_eks_holds(lost: str, old_gone: bool) -> None:
    eks, driver = _changed()
    _crash_after(driver, eks, lost)
    driver.status = {}  # nothing of the replacement survives in status
    if old_gone:
        eks.advance()  # EKS removed the old config before the operator came back
    driver.run()
    name = successor_name("corp", driver.obj.spec.oidc)
    assert list(eks.configs) == [name]
    assert driver.status["identityProviderConfigName"] == name
    assert eks.calls.count("AssociateIdentityProviderConfig") == 2


def test_the_spec_reverted_while_the_new_config_is_made_keeps_the_old_and_removes_the_new() -> None:
    eks, driver = _changed()
    driver.step()  # the new config is CREATING
    driver.change(OLD)
    driver.run()
    assert list(eks.configs) == ["corp"]
    assert driver.status["servingConfigName"] == "corp"
    assert "previousConfig" not in driver.status


@pytest.mark.parametrize("settled", [False, True], ids=["new-creating", "new-active"])
def test_a_third_change_while_both_exist_never_makes_a_third_config(settled: bool) -> None:
    eks, driver = _changed()
    driver.step()  # the new config is CREATING next to the old one
    if settled:
        eks.advance()
    third = {**NEW, "issuerUrl": "https://login.third.example.com"}
    driver.change(third)
    driver.run(most=2)
    assert list(eks.configs) == [successor_name("corp", driver.obj.spec.oidc)]
    assert (
        eks.configs[successor_name("corp", driver.obj.spec.oidc)].issuer_url == third["issuerUrl"]
    )


def test_a_failed_new_association_leaves_the_old_config_serving_and_says_so() -> None:
    eks, driver = _changed()
    driver.step()
    name = successor_name("corp", driver.obj.spec.oidc)
    update_id = driver.status["update"]["id"]
    eks.updates[update_id] = eks.updates[update_id].model_copy(update={"status": "Failed"})
    del eks.configs[name]  # EKS collected the failed config
    stalled = driver.step()
    assert (stalled.rule, stalled.verdict.kind.value) == ("update_failed", "Retry")
    assert "the old config corp keeps serving" in stalled.verdict.message
    assert eks.active_ours() == ["corp"]
    assert stalled.status.serving_config_name == "corp"


def test_deletion_mid_replacement_removes_every_config_the_object_owns() -> None:
    eks, driver = _changed()
    driver.step()  # the new config is CREATING, the old one ACTIVE
    eks.advance()
    driver.deleting = True
    driver.run(check=False)
    assert eks.configs == {}


def test_deletion_finds_a_new_config_a_crash_kept_status_from_recording() -> None:
    eks = ToyEks()
    driver = Driver(eks, oidc=OLD)
    _ready(driver)
    before = dict(driver.status)
    driver.change(NEW)
    driver.step()
    driver.status = before  # the pass that associated the new config crashed before writing
    eks.advance()
    driver.change(OLD)  # and the spec changed once more, so its name is not derived from it
    driver.deleting = True
    driver.run(check=False)
    assert eks.configs == {}


def test_derived_names_are_deterministic_bounded_and_recognisable() -> None:
    spec = obj(oidc=NEW).spec.oidc
    name = successor_name("corp", spec)
    assert name == successor_name("corp", obj(oidc=NEW).spec.oidc)
    assert name != successor_name("corp", obj(oidc={**NEW, "clientId": "x"}).spec.oidc)
    assert is_successor_of(name, "corp")
    assert not is_successor_of("corp", "corp")
    assert not is_successor_of("corp-notahexx", "corp")
    long = successor_name("a" * 100, spec)
    assert len(long) == 100
    assert is_successor_of(long, "a" * 100)


def test_the_pre_check_counts_the_old_config_among_the_cluster_s_configs() -> None:
    resource = obj(oidc=NEW)
    cluster = ObservedCluster(name="prod", status="ACTIVE", version="1.32")
    names = (*tuple(f"c{n}" for n in range(9)), "corp")
    assert delete_first_reason(resource, config(), cluster, names[1:]) is None
    assert "10 identity provider configs" in (
        delete_first_reason(resource, config(), cluster, names) or ""
    )


@pytest.mark.parametrize(
    ("code", "cluster_status"),
    [("InvalidRequestException", "UPDATING"), ("InvalidParameterException", "ACTIVE")],
)
def test_a_refusal_that_is_not_a_limit_never_deletes_the_old_config(
    code: str, cluster_status: str
) -> None:
    eks, driver = _changed()
    eks.refuse_associate = EksError(code, "refused", operation="AssociateIdentityProviderConfig")
    eks.cluster_status = cluster_status
    refused = driver.step()
    assert refused.rule != "successor_refused"
    assert refused.status.replacement_fallback is None
    assert not any(c.__class__.__name__ == "Disassociate" for c in refused.calls)
    assert eks.active_ours() == ["corp"]


def test_a_crash_then_another_change_never_adds_a_third_config() -> None:
    eks, driver = _changed()
    _crash_after(driver, eks, "AssociateIdentityProviderConfig")  # status never learnt of it
    eks.advance()
    driver.change({**NEW, "issuerUrl": "https://login.third.example.com"})
    driver.run(most=2)
    newest = successor_name("corp", driver.obj.spec.oidc)
    assert list(eks.configs) == [newest]


def _health(plan: Plan) -> dict[str, str]:
    return {c.type: c.status for c in plan.status.conditions}


def test_a_failing_association_reports_progress_while_retries_remain_then_stalls() -> None:
    """One story for GitOps health: Reconciling with the failure in the message at every pass
    (the failed one, the held ones, the retries), and Stalled only once the retries are spent."""
    eks = ToyEks()
    driver = Driver(eks)
    driver.step()  # Associate
    seen: list[tuple[str, dict[str, str]]] = []
    for _ in range(MAX_AUTOMATIC_RETRIES + 1):
        update_id = driver.status["update"]["id"]
        eks.updates[update_id] = eks.updates[update_id].model_copy(update={"status": "Failed"})
        eks.configs.pop("corp", None)  # EKS collected the failed config
        failed = driver.step()
        held = driver.step()  # before the hold is up: no EKS call, the same story
        seen += [
            (failed.verdict.kind.value, _health(failed)),
            (held.verdict.kind.value, _health(held)),
        ]
        assert held.calls == ()
        if failed.status.hold is None or failed.status.hold.until is None:
            break
        driver.now = failed.status.hold.until + timedelta(seconds=1)
        again = driver.step()  # the hold is up: associated again
        seen.append((again.verdict.kind.value, _health(again)))
    progress = {"Ready": "False", "Reconciling": "True", "Stalled": "False"}
    stalled = {"Ready": "False", "Reconciling": "False", "Stalled": "True"}
    *retrying, (last_failed, last_health), (last_held, last_held_health) = seen
    assert all(health == progress for _, health in retrying), retrying
    assert {kind for kind, _ in retrying} == {"Retry", "Wait"}
    assert (last_failed, last_health) == ("Stall", stalled)
    assert (last_held, last_held_health) == ("Stall", stalled)
