"""Successor names are pinned: a changed digest renames every existing object's successor config.

The expected names were computed by the code before the OIDC field table drove the digest. A
pass finds the successor an earlier pass (or an earlier version) associated only while the
digest is byte-identical, so these must never be "updated": a failure here means existing
objects would associate a third config.
"""

from __future__ import annotations

from typing import Any

import pytest

from eks_oidc_operator.models import OidcConfigSpec
from eks_oidc_operator.models.oidc_fields import OIDC_FIELDS, OidcField, Shape
from eks_oidc_operator.reconcile.replacement import successor
from eks_oidc_operator.reconcile.replacement.successor import successor_name

ISSUER = "https://idp.example.com"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "corp-182e25d3"),
        (
            {"issuerUrl": "https://idp.example.com/realms/a", "identityProviderConfigName": "corp"},
            "corp-4761ee81",
        ),
        (
            {
                "usernameClaim": "email",
                "usernamePrefix": "oidc:",
                "groupsClaim": "groups",
                "groupsPrefix": "oidc:",
                "requiredClaims": {"hd": "example.com", "aud2": "x"},
            },
            "corp-2b7ffa51",
        ),
        # An empty map is part of the digest, unlike an absent one: kept as it always was.
        ({"requiredClaims": {}}, "corp-eb5c20c0"),
        # EKS's default written out is another setting than leaving it unset.
        ({"usernameClaim": "sub"}, "corp-a49f1467"),
        ({"usernamePrefix": "-"}, "corp-3e923242"),
        ({"clientId": "ünïcode", "groupsClaim": "grüps"}, "corp-b256b13d"),
    ],
)
def test_the_digest_of_existing_specs_never_changes(fields: dict[str, Any], expected: str) -> None:
    spec = OidcConfigSpec.model_validate({"issuerUrl": ISSUER, "clientId": "k8s", **fields})
    assert successor_name("corp", spec) == expected


def test_a_long_base_is_shortened_to_keep_the_digest_whole() -> None:
    spec = OidcConfigSpec.model_validate({"issuerUrl": ISSUER, "clientId": "k8s"})
    assert successor_name("x" * 120, spec) == "x" * 91 + "-182e25d3"


def test_the_config_name_is_not_part_of_the_digest() -> None:
    named = OidcConfigSpec.model_validate(
        {"issuerUrl": ISSUER, "clientId": "k8s", "identityProviderConfigName": "other"}
    )
    assert successor_name("corp", named) == "corp-182e25d3"


class _WithDefaultedField(OidcConfigSpec):
    """A spec as it would be after adding a field that has a default."""

    audience_check: str = "strict"


def test_a_field_added_with_a_default_renames_no_existing_successor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    added = OidcField("audience_check", "audienceCheck", Shape.OPTIONAL)
    monkeypatch.setattr(successor, "OIDC_FIELDS", (*OIDC_FIELDS, added))
    body = {"issuerUrl": ISSUER, "clientId": "k8s"}
    assert successor_name("corp", _WithDefaultedField.model_validate(body)) == "corp-182e25d3"
    changed = _WithDefaultedField.model_validate({**body, "audienceCheck": "lax"})
    assert successor_name("corp", changed) != "corp-182e25d3"
