"""The OIDC field table describes every field of ``spec.oidc``, and what it drives honours it.

A field added to :class:`OidcConfigSpec` without a row (or a row without a field) fails here,
before it can be left out of the request, the observation or the differences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest
from pydantic.alias_generators import to_camel

from eks_oidc_operator.eks import mapping
from eks_oidc_operator.models import OidcConfigSpec
from eks_oidc_operator.models.eks import ObservedConfig
from eks_oidc_operator.models.oidc_fields import (
    NAME_FIELD,
    OIDC_FIELDS,
    OIDC_SETTINGS,
    OidcField,
    Shape,
)
from eks_oidc_operator.reconcile.replacement.delta import oidc_differences

if TYPE_CHECKING:
    from mypy_boto3_eks.type_defs import OidcIdentityProviderConfigTypeDef

ISSUER = "https://login.example.com"
ARN = "arn:aws:eks:eu-west-1:111122223333:identityproviderconfig/prod/oidc/corp/1"

EVERY_FIELD_SET: dict[str, Any] = {
    "identityProviderConfigName": "corp",
    "issuerUrl": ISSUER,
    "clientId": "kubernetes",
    "usernameClaim": "email",
    "usernamePrefix": "oidc:",
    "groupsClaim": "groups",
    "groupsPrefix": "oidc:",
    "requiredClaims": {"hd": "example.com"},
}
"""A spec with a value for every row (a test below fails when a row has none here)."""


def _spec(**fields: Any) -> OidcConfigSpec:
    return OidcConfigSpec.model_validate({"issuerUrl": ISSUER, "clientId": "kubernetes", **fields})


def _observe(members: dict[str, Any]) -> ObservedConfig:
    """What the operator reads from a DescribeIdentityProviderConfig carrying ``members``."""
    response = {**members, "identityProviderConfigArn": ARN, "status": "ACTIVE", "tags": {}}
    return mapping.observed_config(
        cast("OidcIdentityProviderConfigTypeDef", response), cluster="prod", name="corp"
    )


def test_every_field_of_the_model_has_a_row_in_its_order() -> None:
    assert [field.python for field in OIDC_FIELDS] == list(OidcConfigSpec.model_fields)


def test_a_row_names_the_field_as_the_crd_and_eks_do() -> None:
    for field in OIDC_FIELDS:
        assert field.wire == OidcConfigSpec.model_fields[field.python].alias
        assert field.wire == to_camel(field.python)


def test_the_shape_matches_the_model() -> None:
    assert [field for field in OIDC_FIELDS if field.shape is Shape.NAME] == [NAME_FIELD]
    for field in OIDC_SETTINGS:
        required = OidcConfigSpec.model_fields[field.python].is_required()
        assert required == (field.shape is Shape.REQUIRED), field.python


def test_the_observation_has_a_typed_field_per_setting() -> None:
    observed = set(ObservedConfig.model_fields)
    assert {field.python for field in OIDC_SETTINGS} <= observed


def test_every_setting_names_the_successor_and_the_name_does_not() -> None:
    assert not NAME_FIELD.names_successor
    assert all(field.names_successor for field in OIDC_SETTINGS)


def test_the_sample_sets_every_row() -> None:
    assert set(EVERY_FIELD_SET) == {field.wire for field in OIDC_FIELDS}


def test_every_setting_survives_the_round_trip_through_eks() -> None:
    spec = OidcConfigSpec.model_validate(EVERY_FIELD_SET)
    request = dict(mapping.oidc_request("corp", spec))
    assert request == EVERY_FIELD_SET
    assert oidc_differences(spec, _observe(request)) == []


def test_a_minimal_spec_sends_only_what_is_set() -> None:
    assert dict(mapping.oidc_request("corp", _spec(requiredClaims={}))) == {
        "identityProviderConfigName": "corp",
        "issuerUrl": ISSUER,
        "clientId": "kubernetes",
    }


@pytest.mark.parametrize("field", OIDC_SETTINGS, ids=lambda field: field.wire)
def test_a_change_of_any_setting_is_a_difference(field: OidcField) -> None:
    spec = OidcConfigSpec.model_validate(EVERY_FIELD_SET)
    request = dict(mapping.oidc_request("corp", spec))
    changed = {"hd": "other"} if field.shape is Shape.MAP else "https://other.example.com"
    observed = _observe({**request, field.wire: changed})
    assert oidc_differences(spec, observed) == [f"spec.oidc.{field.wire}"]


@pytest.mark.parametrize(
    ("wire", "echo"),
    [
        ("usernameClaim", "sub"),
        ("usernameClaim", ""),
        ("usernamePrefix", f"{ISSUER}#"),
        ("usernamePrefix", ""),
        ("groupsClaim", ""),
        ("groupsPrefix", ""),
        ("requiredClaims", {}),
    ],
)
def test_what_eks_reports_for_an_unset_field_matches_it(wire: str, echo: object) -> None:
    observed = _observe({"issuerUrl": ISSUER, "clientId": "kubernetes", wire: echo})
    assert oidc_differences(_spec(), observed) == []


def test_an_echo_of_a_default_does_not_match_a_value_that_is_set() -> None:
    observed = _observe(
        {"issuerUrl": ISSUER, "clientId": "kubernetes", "usernamePrefix": f"{ISSUER}#"}
    )
    assert oidc_differences(_spec(usernamePrefix="u:"), observed) == ["spec.oidc.usernamePrefix"]
