"""Pure translation between our models and EKS shapes: no client, no botocore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

import pytest

from eks_oidc_operator.eks import mapping
from eks_oidc_operator.models import EksUpdate, EksUpdateError, OidcConfigSpec

ASSOCIATE: Final = "AssociateIdentityProviderConfig"
DISASSOCIATE: Final = "DisassociateIdentityProviderConfig"
ARN = "arn:aws:eks:us-west-2:111122223333:identityproviderconfig/prod/oidc/corp-sso/1"


def _update(
    update_id: str,
    kind: str,
    minute: int,
    names: tuple[str, ...] = (),
    status: str = "Successful",
) -> EksUpdate:
    return EksUpdate(
        id=update_id,
        type=kind,
        status=status,
        created_at=datetime(2026, 1, 1, 12, minute, tzinfo=UTC),
        config_names=names,
    )


def test_oidc_request_carries_every_member_that_is_set() -> None:
    spec = OidcConfigSpec(
        issuer_url="https://login.example.com",
        client_id="kubernetes",
        username_claim="email",
        username_prefix="oidc:",
        groups_claim="groups",
        groups_prefix="oidc:",
        required_claims={"hd": "example.com"},
    )
    assert mapping.oidc_request("corp-sso", spec) == {
        "identityProviderConfigName": "corp-sso",
        "issuerUrl": "https://login.example.com",
        "clientId": "kubernetes",
        "usernameClaim": "email",
        "usernamePrefix": "oidc:",
        "groupsClaim": "groups",
        "groupsPrefix": "oidc:",
        "requiredClaims": {"hd": "example.com"},
    }


@pytest.mark.parametrize("claims", [None, {}])
def test_oidc_request_omits_unset_members_and_empty_required_claims(
    claims: dict[str, str] | None,
) -> None:
    spec = OidcConfigSpec(
        issuer_url="https://login.example.com", client_id="kubernetes", required_claims=claims
    )
    assert mapping.oidc_request("corp-sso", spec) == {
        "identityProviderConfigName": "corp-sso",
        "issuerUrl": "https://login.example.com",
        "clientId": "kubernetes",
    }


def test_oidc_request_uses_the_given_name_not_the_spec_field() -> None:
    spec = OidcConfigSpec(
        identity_provider_config_name="from-spec",
        issuer_url="https://login.example.com",
        client_id="kubernetes",
    )
    assert mapping.oidc_request("resolved", spec)["identityProviderConfigName"] == "resolved"


def test_associate_request_omits_empty_tags_and_keeps_the_token() -> None:
    spec = OidcConfigSpec(issuer_url="https://login.example.com", client_id="kubernetes")
    request = mapping.associate_request("prod", "corp-sso", spec, {}, "token-1")
    assert request == {
        "clusterName": "prod",
        "oidc": mapping.oidc_request("corp-sso", spec),
        "clientRequestToken": "token-1",
    }
    tagged = mapping.associate_request("prod", "corp-sso", spec, {"team": "platform"}, "t")
    assert tagged["tags"] == {"team": "platform"}


def test_observed_cluster_reads_name_and_status_and_ignores_the_rest() -> None:
    cluster = mapping.observed_cluster(
        {
            "name": "prod",
            "status": "ACTIVE",
            "version": "1.32",
            "identity": {"oidc": {"issuer": "https://oidc.eks.us-west-2.amazonaws.com/id/AB"}},
        },
        name="prod",
    )
    assert (cluster.name, cluster.status) == ("prod", "ACTIVE")


def test_observed_cluster_without_a_name_takes_the_one_asked_for() -> None:
    cluster = mapping.observed_cluster({"status": "CREATING"}, name="prod")
    assert (cluster.name, cluster.status) == ("prod", "CREATING")


def test_observed_config_keeps_omitted_prefixes_unset_and_empty_maps_empty() -> None:
    config = mapping.observed_config(
        {
            "identityProviderConfigName": "corp-sso",
            "identityProviderConfigArn": ARN,
            "clusterName": "prod",
            "issuerUrl": "https://login.example.com",
            "clientId": "kubernetes",
            "usernameClaim": "email",
            "groupsClaim": "eks_groups",
            "requiredClaims": {},
            "tags": {},
            "status": "ACTIVE",
        },
        cluster="prod",
        name="corp-sso",
    )
    assert config.username_prefix is None
    assert config.groups_prefix is None
    assert config.required_claims == {}
    assert config.tags == {}
    assert config.groups_claim == "eks_groups"


def test_observed_config_without_an_arn_is_a_malformed_response() -> None:
    with pytest.raises(KeyError):
        mapping.observed_config(
            {"issuerUrl": "https://x.example.com", "clientId": "k", "status": "ACTIVE"},
            cluster="prod",
            name="corp-sso",
        )


def test_observed_update_decodes_params_errors_and_time_in_utc() -> None:
    local = timezone(timedelta(hours=-4))
    update = mapping.observed_update(
        {
            "id": "8c6c1bef-61fe-42ac-a242-89412387b8e7",
            "status": "Failed",
            "type": ASSOCIATE,
            "params": [
                {
                    "type": "IdentityProviderConfig",
                    "value": '[{"type":"oidc","name":"my-identity-provider"}]',
                }
            ],
            "createdAt": datetime(2024, 4, 11, 13, 46, 49, tzinfo=local),
            "errors": [
                {"errorCode": "Unknown", "errorMessage": "issuer unreachable", "resourceIds": ["p"]}
            ],
        }
    )
    assert update.config_names == ("my-identity-provider",)
    assert update.created_at == datetime(2024, 4, 11, 17, 46, 49, tzinfo=UTC)
    assert update.created_at is not None
    assert update.created_at.tzinfo is UTC
    assert update.errors == (
        EksUpdateError(
            error_code="Unknown", error_message="issuer unreachable", resource_ids=("p",)
        ),
    )


def test_observed_update_treats_a_naive_time_as_utc_and_missing_members_as_empty() -> None:
    update = mapping.observed_update(
        {"id": "u", "status": "InProgress", "createdAt": datetime(2026, 1, 1, 12, 0)}
    )
    assert update.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert (update.type, update.errors, update.config_names) == (None, (), ())


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("[]", ()),
        ('[{"type":"oidc","name":"a"},{"type":"oidc","name":"b"}]', ("a", "b")),
        ('[{"name":"untyped"}]', ("untyped",)),
        ('[{"type":"other","name":"x"}]', ()),
        ("not json", ()),
        ('{"name":"x"}', ()),
        ('[1, {"name": 2}]', ()),
        ("", ()),
    ],
)
def test_config_names_decodes_the_json_string_and_ignores_anything_else(
    value: str, names: tuple[str, ...]
) -> None:
    assert mapping.config_names([{"type": "IdentityProviderConfig", "value": value}]) == names


def test_config_names_ignores_params_of_other_types() -> None:
    params = [{"type": "Version", "value": "1.32"}]
    assert mapping.config_names(params) == ()  # type: ignore[arg-type]


def test_newest_config_update_picks_the_newest_association_naming_the_config() -> None:
    updates = [
        _update("old", ASSOCIATE, 1, ("corp-sso",)),
        _update("new", ASSOCIATE, 3, ("corp-sso",), status="InProgress"),
        _update("other-name", ASSOCIATE, 5, ("other",)),
        _update("other-type", "VersionUpdate", 6),
        _update("unnamed", ASSOCIATE, 7),
    ]
    chosen = mapping.newest_config_update(updates, "corp-sso", ASSOCIATE)
    assert chosen is not None
    assert chosen.id == "new"


def test_newest_config_update_takes_the_in_progress_disassociation_whose_params_are_empty() -> None:
    updates = [
        _update("done", DISASSOCIATE, 1),
        _update("running", DISASSOCIATE, 2, status="InProgress"),
        _update("associate", ASSOCIATE, 4, ("corp-sso",), status="InProgress"),
    ]
    chosen = mapping.newest_config_update(updates, "corp-sso", DISASSOCIATE)
    assert chosen is not None
    assert chosen.id == "running"


def test_newest_config_update_finds_nothing_when_nothing_matches() -> None:
    updates = [_update("done", DISASSOCIATE, 1), _update("a", ASSOCIATE, 2, ("other",))]
    assert mapping.newest_config_update(updates, "corp-sso", DISASSOCIATE) is None
    assert mapping.newest_config_update(updates, "corp-sso", ASSOCIATE) is None
    assert mapping.newest_config_update([], "corp-sso", ASSOCIATE) is None


def test_newest_config_update_ranks_an_update_without_a_time_last() -> None:
    timeless = EksUpdate(
        id="timeless", type=ASSOCIATE, status="Successful", config_names=("corp-sso",)
    )
    timed = _update("timed", ASSOCIATE, 0, ("corp-sso",))
    chosen = mapping.newest_config_update([timeless, timed], "corp-sso", ASSOCIATE)
    assert chosen is not None
    assert chosen.id == "timed"
