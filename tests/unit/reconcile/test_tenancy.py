"""The tenancy decision: which rule grants an object, and what a refusal says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eks_oidc_operator.models.tenancy import DEFAULT_POLICY, TenancyPolicy, TenancyRule
from eks_oidc_operator.reconcile.guards.claims import Claim, claim_key, older_claim
from eks_oidc_operator.reconcile.guards.ownership import (
    MAX_TAG_VALUE,
    Owner,
    owner_of,
    tagged_owner,
)
from eks_oidc_operator.reconcile.guards.tenancy import decide
from eks_oidc_operator.reconcile.limits import provider_limit
from tests.support.factories import obj

ROLE_A = "arn:aws:iam::111111111111:role/eks-oidc-team-a"
ROLE_B = "arn:aws:iam::222222222222:role/eks-oidc-team-b"

POLICY = TenancyPolicy(
    rules=(
        TenancyRule(
            name="team-a",
            namespaces=("platform",),
            role_arns=("arn:aws:iam::111111111111:role/eks-oidc-*",),
            regions=("eu-west-1",),
            clusters=("prod", "staging-*"),
            external_id="ext-team-a",
        ),
        TenancyRule(name="shared", namespaces=("*",), operator_identity=True, clusters=("dev",)),
    )
)


def test_the_default_permits_nothing_and_says_who_grants() -> None:
    # The shipped default once let every namespace use the operator's own identity: a tenant
    # attached an identity provider she controls to another team's production cluster.
    for resource in (obj(), obj(roleArn=ROLE_A)):
        refused = decide(DEFAULT_POLICY, resource, "eu-west-1")
        assert refused.denied is not None
        assert "no tenancy rule covers namespace platform" in refused.denied
        assert "tenancy.rules" in refused.denied


def test_adoption_is_granted_only_by_a_rule_that_says_so() -> None:
    assert decide(POLICY, obj(roleArn=ROLE_A), "eu-west-1").adopt is False
    adopting = TenancyPolicy(
        rules=(TenancyRule(name="a", namespaces=("platform",), operator_identity=True, adopt=True),)
    )
    assert decide(adopting, obj(), "eu-west-1").adopt is True


def test_a_rule_grants_its_roles_in_its_regions_and_clusters_with_its_external_id() -> None:
    granted = decide(POLICY, obj(roleArn=ROLE_A), "eu-west-1")
    assert (granted.denied, granted.rule, granted.external_id) == (None, "team-a", "ext-team-a")
    assert decide(POLICY, obj(roleArn=ROLE_A, clusterName="staging-1"), "eu-west-1").rule == (
        "team-a"
    )


@pytest.mark.parametrize(
    ("resource", "region", "named"),
    [
        (obj(roleArn=ROLE_B), "eu-west-1", f"role {ROLE_B}"),
        (obj(roleArn=ROLE_A), "us-east-1", "region us-east-1"),
        (obj(roleArn=ROLE_A, clusterName="other"), "eu-west-1", "cluster other"),
        (obj(), "eu-west-1", "the operator's own identity"),
    ],
)
def test_a_refusal_names_the_rules_and_what_they_do_not_grant(
    resource: object, region: str, named: str
) -> None:
    access = decide(POLICY, resource, region)  # type: ignore[arg-type]
    assert access.denied is not None
    assert "rule team-a does not grant" in access.denied
    assert named in access.denied
    assert access.external_id is None


def test_a_namespace_no_rule_covers_is_named() -> None:
    policy = TenancyPolicy(rules=(TenancyRule(name="a", namespaces=("team-a",)),))
    denied = decide(policy, obj(), "eu-west-1").denied
    assert denied is not None
    assert denied.startswith("no tenancy rule covers namespace platform")


def test_a_rule_needs_a_name_and_namespaces() -> None:
    with pytest.raises(ValidationError):
        TenancyPolicy.model_validate({"rules": [{"name": "x", "namespaces": []}]})
    with pytest.raises(ValidationError):
        TenancyPolicy.model_validate({"rules": [{"name": "x", "namespaces": ["a"], "roles": []}]})


def test_ownership_tags_name_namespace_and_name_and_fit_a_tag_value() -> None:
    me = owner_of(obj(), "mgmt")
    assert me.tags == {"eksoidc.io/owner": "platform/corp", "eksoidc.io/management-cluster": "mgmt"}
    assert tagged_owner(me.tags) == me
    assert tagged_owner({"team": "a"}) is None
    # Another management cluster's object of the same namespace and name is another owner.
    assert tagged_owner({"eksoidc.io/owner": "platform/corp"}) != me
    assert str(Owner("a/b", "m")) == "a/b of management cluster m"
    long_one = owner_of(
        obj().model_copy(
            update={
                "metadata": obj().metadata.model_copy(
                    update={"name": "n" * 253, "namespace": "s" * 63}
                )
            }
        ),
        "",
    )
    other = owner_of(
        obj().model_copy(
            update={
                "metadata": obj().metadata.model_copy(
                    update={"name": "n" * 252 + "m", "namespace": "s" * 63}
                )
            }
        ),
        "",
    )
    assert len(long_one.name) <= MAX_TAG_VALUE
    assert long_one.name != other.name


@pytest.mark.parametrize(
    ("version", "limit"), [("1.31", 1), ("1.29", 1), ("1.32", 10), ("1.33", 10), ("", None)]
)
def test_the_provider_limit_follows_the_kubernetes_version(version: str, limit: int | None) -> None:
    assert provider_limit(version) == limit


def test_the_older_claim_on_a_config_goes_first_whatever_the_order() -> None:
    older = Claim("2026-12-01T10:00:00Z", "b-uid", "team-a/corp")
    younger = Claim("2026-12-01T10:00:05Z", "a-uid", "team-b/corp")
    twin = Claim("2026-12-01T10:00:00Z", "c-uid", "team-c/corp")  # same second: the uid decides
    for claims in ([older, younger, twin], [twin, younger, older]):
        assert older_claim(claims, younger) == older
        assert older_claim(claims, twin) == older
        assert older_claim(claims, older) is None


def test_a_claim_names_account_region_cluster_and_config() -> None:
    with_role = obj(roleArn="arn:aws:iam::111111111111:role/x")
    assert claim_key(with_role, "eu-west-1") == ("111111111111", "eu-west-1", "prod", "corp")
    assert claim_key(obj(), "eu-west-1") == ("", "eu-west-1", "prod", "corp")
