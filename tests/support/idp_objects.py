"""OidcIdentityProvider objects: as a user writes them, and as the API server shows them."""

from __future__ import annotations

import json
from typing import Any

from eks_oidc_operator import constants
from eks_oidc_testing.kube import Cluster, unique_name


def manifest(name: str, namespace: str, cluster: str, **spec: Any) -> dict[str, Any]:
    """An OidcIdentityProvider as a user writes it."""
    oidc = {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"}
    oidc.update(spec.pop("oidc", {}))
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterName": cluster, "oidc": oidc, **spec},
    }


def get_object(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    """The object, or None once it is gone."""
    result = cluster.kubectl("get", f"oidcidp/{name}", "-n", namespace, "-o", "json", check=False)
    if result.returncode != 0:
        return None
    obj: dict[str, Any] = json.loads(result.stdout)
    return obj


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any]:
    """One condition of an object ({} when absent)."""
    for entry in (obj or {}).get("status", {}).get("conditions", []):
        if entry["type"] == type_:
            found: dict[str, Any] = entry
            return found
    return {}


def events_of(cluster: Cluster, namespace: str, name: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of every event about the object, oldest first."""
    items = cluster.get_json(
        "events", "-n", namespace, f"--field-selector=involvedObject.name={name}"
    )["items"]
    items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [(e["type"], e["reason"], e.get("message", "")) for e in items]


def with_condition(
    cluster: Cluster, namespace: str, name: str, type_: str
) -> dict[str, Any] | None:
    """The object, once its condition ``type_`` is True (else None)."""
    obj = get_object(cluster, namespace, name)
    return obj if condition(obj, type_).get("status") == "True" else None


def new_name() -> str:
    """A name for a test object."""
    return unique_name("idp")
