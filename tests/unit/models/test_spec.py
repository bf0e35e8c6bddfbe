"""The spec model refuses what EKS would refuse, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from eks_oidc_operator.models import DeletionPolicy, OidcIdentityProvider, OidcIdentityProviderSpec


def _spec(**overrides: Any) -> dict[str, Any]:
    oidc = {"issuerUrl": "https://login.example.com/realm", "clientId": "kubernetes"}
    oidc.update(overrides.pop("oidc", {}))
    return {"clusterName": "prod-eu", "oidc": oidc, **overrides}


def test_a_minimal_spec_parses_with_defaults() -> None:
    spec = OidcIdentityProviderSpec.model_validate(_spec())
    assert spec.cluster_name == "prod-eu"
    assert spec.deletion_policy is DeletionPolicy.DELETE
    assert spec.oidc.identity_provider_config_name is None
    assert spec.tags is None


def test_the_config_name_defaults_to_the_object_name() -> None:
    body = {
        "metadata": {"name": "corp-sso", "namespace": "platform", "generation": 3},
        "spec": _spec(),
    }
    assert OidcIdentityProvider.model_validate(body).config_name == "corp-sso"
    body["spec"] = _spec(oidc={"identityProviderConfigName": "explicit"})
    assert OidcIdentityProvider.model_validate(body).config_name == "explicit"


def test_camel_case_round_trips_to_the_wire_names() -> None:
    spec = OidcIdentityProviderSpec.model_validate(
        _spec(oidc={"usernameClaim": "email", "requiredClaims": {"hd": "example.com"}})
    )
    wire = spec.model_dump(by_alias=True, exclude_none=True)
    assert wire["oidc"]["usernameClaim"] == "email"
    assert wire["oidc"]["requiredClaims"] == {"hd": "example.com"}
    assert wire["deletionPolicy"] == "Delete"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"oidc": {"issuerUrl": "http://login.example.com"}}, "oidc.issuerUrl"),
        ({"oidc": {"issuerUrl": "https://login.example.com/?a=b"}}, "oidc.issuerUrl"),
        ({"oidc": {"issuerUrl": "https://login.example.com/#frag"}}, "oidc.issuerUrl"),
        ({"oidc": {"issuerUrl": "https:///realms/corp"}}, "oidc.issuerUrl"),
        ({"oidc": {"issuerUrl": "https://:8443/realms"}}, "oidc.issuerUrl"),
        ({"oidc": {"usernamePrefix": "system:oidc"}}, "oidc.usernamePrefix"),
        ({"oidc": {"groupsPrefix": "x-system:"}}, "oidc.groupsPrefix"),
        ({"oidc": {"requiredClaims": {"k" * 64: "v"}}}, "oidc.requiredClaims"),
        ({"oidc": {"requiredClaims": {"k": "v" * 254}}}, "oidc.requiredClaims"),
        ({"oidc": {"clientId": ""}}, "oidc.clientId"),
        ({"clusterName": "-bad"}, "clusterName"),
        ({"clusterName": "a" * 101}, "clusterName"),
        ({"region": "Europe"}, "region"),
        ({"roleArn": "arn:aws:iam::12:role/x"}, "roleArn"),
        ({"tags": {"aws:owner": "me"}}, "tags"),
        ({"tags": {"owner": "aws:me"}}, "tags"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"tags": {"k": "v" * 257}}, "tags"),
        ({"deletionPolicy": "Orphan"}, "deletionPolicy"),
        ({"unknownField": 1}, "unknownField"),
    ],
)
def test_bad_input_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        OidcIdentityProviderSpec.model_validate(_spec(**overrides))
    locations = {".".join(str(part) for part in error["loc"]) for error in caught.value.errors()}
    assert any(location.startswith(field) for location in locations), locations
