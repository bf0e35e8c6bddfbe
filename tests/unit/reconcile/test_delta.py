"""Spec vs EKS: differences that force a replacement, and the tag delta."""

from __future__ import annotations

from eks_oidc_operator.models import OidcConfigSpec
from eks_oidc_operator.reconcile.replacement.delta import oidc_differences, tag_delta
from tests.support.factories import config


def _spec(**fields: object) -> OidcConfigSpec:
    return OidcConfigSpec.model_validate(
        {"issuerUrl": "https://login.example.com", "clientId": "kubernetes", **fields}
    )


def test_identical_settings_have_no_differences() -> None:
    assert oidc_differences(_spec(), config()) == []


def test_eks_defaults_match_an_unset_field() -> None:
    observed = config(
        username_claim="sub", username_prefix="https://login.example.com#", required_claims={}
    )
    assert oidc_differences(_spec(), observed) == []


def test_each_field_is_named_when_it_differs() -> None:
    desired = _spec(
        usernameClaim="email",
        groupsClaim="groups",
        groupsPrefix="g:",
        usernamePrefix="u:",
        requiredClaims={"hd": "x"},
        clientId="other",
        issuerUrl="https://other.example.com",
    )
    assert oidc_differences(desired, config()) == [
        "spec.oidc.issuerUrl",
        "spec.oidc.clientId",
        "spec.oidc.usernameClaim",
        "spec.oidc.usernamePrefix",
        "spec.oidc.groupsClaim",
        "spec.oidc.groupsPrefix",
        "spec.oidc.requiredClaims",
    ]


def test_tag_delta_sets_changed_removes_extra_and_spares_aws_tags() -> None:
    delta = tag_delta({"a": "1", "b": "2"}, {"a": "0", "c": "3", "aws:x": "y", "AWS:z": "w"})
    assert delta.to_set == {"a": "1", "b": "2"}
    assert delta.to_remove == ("c",)
    assert tag_delta(None, {}).empty
