"""The pass's input stage: it asks only what the pure decision says, through its interfaces."""

from __future__ import annotations

from dataclasses import dataclass, field

from eks_oidc_operator.models import IssuerCheckMode
from eks_oidc_operator.models.tenancy import TenancyPolicy
from eks_oidc_operator.reconcile.guards.inputs import asks
from eks_oidc_operator.reconcile.guards.issuer import IssuerCheck
from eks_oidc_operator.reconcile.guards.tenancy import Access
from eks_oidc_operator.reconcile.observation import CrdState
from eks_oidc_operator.runtime.crd_state import FixedCrdReader
from eks_oidc_operator.runtime.inputs import Sources, collect
from eks_oidc_operator.runtime.tenancy_source import Loaded
from tests.support.factories import obj

OPEN = TenancyPolicy.model_validate(
    {"rules": [{"name": "all", "namespaces": ["*"], "operatorIdentity": True}]}
)


@dataclass
class Policies:
    policy: Loaded

    def current(self) -> Loaded:
        return self.policy


@dataclass
class Issuers:
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def check(self, url: str, tenant: str = "") -> IssuerCheck:
        self.asked.append((url, tenant))
        return IssuerCheck(url)


def _sources(policy: Loaded, issuers: Issuers, crd: CrdState = CrdState.SERVING) -> Sources:
    return Sources(
        policies=Policies(policy),
        issuers=issuers,
        crd=FixedCrdReader(crd, "being deleted" if crd is CrdState.DELETING else ""),
        default_issuer_mode=IssuerCheckMode.ENFORCE,
    )


def test_what_a_pass_asks_is_decided_from_the_object_alone() -> None:
    new = obj()
    assert asks(new, IssuerCheckMode.ENFORCE, Access()).issuer_check
    assert not asks(new, IssuerCheckMode.ENFORCE, Access(denied="no rule")).issuer_check
    assert not asks(new, IssuerCheckMode.SKIP, Access()).issuer_check
    assert asks(obj(issuerCheck="Warn"), IssuerCheckMode.ENFORCE, Access()).issuer_mode is (
        IssuerCheckMode.WARN
    )
    deleting = asks(obj(deleting=True), IssuerCheckMode.ENFORCE, Access())
    assert deleting.crd
    assert not deleting.issuer_check
    assert not asks(new, IssuerCheckMode.ENFORCE, Access()).crd


async def test_a_new_object_is_pre_flighted_and_its_crd_not_read() -> None:
    issuers = Issuers()
    access, checks = await collect(
        obj(), "eu-west-1", _sources(OPEN, issuers, CrdState.UNREAD), None
    )
    assert access.denied is None
    assert issuers.asked == [("https://login.example.com", "platform")]
    assert checks.issuer is not None
    assert checks.crd is CrdState.SERVING  # not asked: the reader would have said UNREAD


async def test_an_unreadable_policy_denies_and_fetches_nothing() -> None:
    issuers = Issuers()
    access, checks = await collect(obj(), "eu-west-1", _sources("policy unreadable", issuers), None)
    assert access.denied == checks.denied == "policy unreadable"
    assert issuers.asked == []
    assert checks.issuer is None


async def test_a_deletion_reads_the_crd() -> None:
    issuers = Issuers()
    _, checks = await collect(
        obj(deleting=True), "eu-west-1", _sources(OPEN, issuers, CrdState.DELETING), None
    )
    assert (checks.crd, checks.crd_problem) == (CrdState.DELETING, "being deleted")
    assert issuers.asked == []
