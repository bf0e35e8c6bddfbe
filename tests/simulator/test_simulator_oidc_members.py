"""The simulator's list of OIDC settings and the operator's field table name the same members.

The simulator must not import the operator (an import-linter contract), so each keeps its own
list; this test, which may import both, keeps them from drifting apart.
"""

from __future__ import annotations

from eks_oidc_operator.models.oidc_fields import OIDC_SETTINGS, Shape
from eks_simulator.entities import OIDC_MEMBERS, IdpConfig


def test_the_simulator_stores_every_setting_the_operator_sends() -> None:
    assert [(m.attr, m.wire, m.is_map) for m in OIDC_MEMBERS] == [
        (field.python, field.wire, field.shape is Shape.MAP) for field in OIDC_SETTINGS
    ]


def test_every_member_is_a_field_of_the_simulated_config() -> None:
    assert {member.attr for member in OIDC_MEMBERS} <= set(IdpConfig.model_fields)


def test_a_config_reports_and_sizes_what_it_was_given() -> None:
    request = {
        "identityProviderConfigName": "corp",
        "issuerUrl": "https://login.example.com",
        "clientId": "kubernetes",
        "usernameClaim": "email",
        "groupsPrefix": "g:",
    }
    config = IdpConfig(
        name="corp",
        arn="arn:aws:eks:eu-west-1:111122223333:identityproviderconfig/prod/oidc/corp/1",
        cluster_name="prod",
        **IdpConfig.settings_from_request(request),
    )
    assert config.request_form() == request
    wire = config.to_wire()
    assert {key: wire[key] for key in request} == request
    assert "usernamePrefix" not in wire
    assert wire["requiredClaims"] == {}
