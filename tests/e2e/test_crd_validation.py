"""Bad input is refused by the API server at ``kubectl apply``, with a message naming the field.

Each case is a manifest a user could plausibly write; each must fail before the operator ever
sees it, so nothing half-valid reaches EKS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.paths import REPO

# Also in the kind tier: the same refusals from a kubeadm-made API server.
pytestmark = [pytest.mark.e2e, pytest.mark.kind]

CRD_FILE = REPO / "crds" / f"{constants.CRD_NAME}.yaml"


@pytest.fixture(scope="module", autouse=True)
def _crd(cluster: Cluster) -> None:
    cluster.kubectl("apply", "--server-side", "-f", str(CRD_FILE))
    cluster.kubectl(
        "wait", "--for=condition=Established", f"crd/{constants.CRD_NAME}", "--timeout=30s"
    )


def _manifest(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _spec(**overrides: Any) -> dict[str, Any]:
    oidc = {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"}
    oidc.update(overrides.pop("oidc", {}))
    return {"clusterName": "prod-eu", "region": "eu-west-1", "oidc": oidc, **overrides}


INVALID = {
    "http issuer": (_spec(oidc={"issuerUrl": "http://login.example.com"}), "spec.oidc.issuerUrl"),
    "issuer with query": (
        _spec(oidc={"issuerUrl": "https://x.example.com/?a=1"}),
        "spec.oidc.issuerUrl",
    ),
    "issuer with fragment": (
        _spec(oidc={"issuerUrl": "https://x.example.com/#f"}),
        "spec.oidc.issuerUrl",
    ),
    "issuer without a host": (
        _spec(oidc={"issuerUrl": "https:///realms/corp"}),
        "spec.oidc.issuerUrl must name a host",
    ),
    "system: username prefix": (
        _spec(oidc={"usernamePrefix": "system:x"}),
        "spec.oidc.usernamePrefix",
    ),
    "system: groups prefix": (_spec(oidc={"groupsPrefix": "a-system:"}), "spec.oidc.groupsPrefix"),
    "claim key too long": (
        _spec(oidc={"requiredClaims": {"k" * 64: "v"}}),
        "spec.oidc.requiredClaims",
    ),
    "claim value too long": (
        _spec(oidc={"requiredClaims": {"k": "v" * 254}}),
        "spec.oidc.requiredClaims",
    ),
    "claim value empty": (_spec(oidc={"requiredClaims": {"k": ""}}), "spec.oidc.requiredClaims"),
    "missing clientId": (
        {"clusterName": "prod", "oidc": {"issuerUrl": "https://x.example.com"}},
        "spec.oidc.clientId",
    ),
    "aws: tag": (_spec(tags={"aws:owner": "me"}), "spec.tags"),
    "aws: tag value": (_spec(tags={"owner": "AWS:me"}), "spec.tags values"),
    "51 tags": (_spec(tags={f"k{i}": "v" for i in range(51)}), "spec.tags"),
    "tag key too long": (_spec(tags={"k" * 129: "v"}), "spec.tags"),
    "tag value too long": (_spec(tags={"k": "v" * 257}), "spec.tags"),
    "tags as a list": (_spec(tags=[{"key": "team", "value": "a"}]), "spec.tags"),
    "cluster name pattern": (_spec(clusterName="-prod"), "spec.clusterName"),
    "cluster name too long": (_spec(clusterName="p" * 101), "spec.clusterName"),
    "bad region": (_spec(region="Europe"), "spec.region"),
    "bad role ARN": (_spec(roleArn="arn:aws:iam::1:role/x"), "spec.roleArn"),
    "bad deletion policy": (_spec(deletionPolicy="Orphan"), "spec.deletionPolicy"),
    "unknown field": (_spec(oidc={"issuer": "https://x.example.com"}), "spec.oidc.issuer"),
}


@pytest.mark.parametrize(("spec", "field"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_object_is_refused_naming_the_field(
    cluster: Cluster, namespace: str, spec: dict[str, Any], field: str
) -> None:
    result = cluster.apply(_manifest(unique_name("bad"), namespace, spec))
    assert result.returncode != 0
    assert field in result.stderr, result.stderr
    assert cluster.kubectl("get", "oidcidp", "-n", namespace, "-o", "name").stdout == ""


def test_a_name_too_long_for_an_eks_config_needs_an_explicit_config_name(
    cluster: Cluster, namespace: str
) -> None:
    long_name = "n" * 101
    refused = cluster.apply(_manifest(long_name, namespace, _spec()))
    assert refused.returncode != 0
    assert "spec.oidc.identityProviderConfigName" in refused.stderr, refused.stderr
    assert "metadata.name" in refused.stderr, refused.stderr
    named = _spec(oidc={"identityProviderConfigName": "corp"})
    accepted = cluster.apply(_manifest(long_name, namespace, named))
    assert accepted.returncode == 0, accepted.stderr


CHANGES = {
    "cluster name changed": ({"clusterName": "other"}, "spec.clusterName is immutable"),
    "region changed": ({"region": "us-east-1"}, "spec.region is immutable"),
    "region removed": ({"region": None}, "spec.region is immutable"),
    "role added": ({"roleArn": "arn:aws:iam::222222222222:role/new"}, "spec.roleArn is immutable"),
    "config name added": (
        {"oidc": {"identityProviderConfigName": "other"}},
        "spec.oidc.identityProviderConfigName is immutable",
    ),
}


def _refused_change(
    cluster: Cluster, namespace: str, created: dict[str, Any], patch: dict[str, Any]
) -> str:
    """Create an object with spec ``created``, patch its spec; return the refusal's stderr."""
    name = unique_name("idp")
    applied = cluster.apply(_manifest(name, namespace, created))
    assert applied.returncode == 0, applied.stderr
    result = cluster.kubectl(
        "patch",
        f"oidcidp/{name}",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        json.dumps({"spec": patch}),
        check=False,
    )
    assert result.returncode != 0, "the change was accepted"
    return result.stderr


@pytest.mark.parametrize(("patch", "message"), CHANGES.values(), ids=CHANGES.keys())
def test_immutable_fields_cannot_change_after_creation(
    cluster: Cluster, namespace: str, patch: dict[str, Any], message: str
) -> None:
    stderr = _refused_change(cluster, namespace, _spec(), patch)
    assert message in stderr, stderr


@pytest.mark.parametrize(
    "role", ["arn:aws:iam::222222222222:role/other", None], ids=["changed", "removed"]
)
def test_the_role_cannot_change_or_go_after_creation(
    cluster: Cluster, namespace: str, role: str | None
) -> None:
    created = _spec(roleArn="arn:aws:iam::111111111111:role/idp")
    stderr = _refused_change(cluster, namespace, created, {"roleArn": role})
    assert "spec.roleArn is immutable" in stderr, stderr


def test_mutable_fields_can_change(cluster: Cluster, namespace: str) -> None:
    name = unique_name("idp")
    assert cluster.apply(_manifest(name, namespace, _spec())).returncode == 0
    patch = {
        "spec": {
            "tags": {"team": "platform"},
            "oidc": {"clientId": "other"},
            "deletionPolicy": "Retain",
        }
    }
    cluster.kubectl(
        "patch", f"oidcidp/{name}", "-n", namespace, "--type=merge", "-p", json.dumps(patch)
    )
    spec = cluster.get_json(f"oidcidp/{name}", "-n", namespace)["spec"]
    assert spec["tags"] == {"team": "platform"}
    assert spec["oidc"]["clientId"] == "other"
    assert spec["deletionPolicy"] == "Retain"


def test_deletion_policy_defaults_to_delete(cluster: Cluster, namespace: str) -> None:
    name = unique_name("idp")
    assert cluster.apply(_manifest(name, namespace, _spec())).returncode == 0
    assert (
        cluster.get_json(f"oidcidp/{name}", "-n", namespace)["spec"]["deletionPolicy"] == "Delete"
    )
