"""The committed CRD is exactly what the models generate, and it is a structural schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from eks_oidc_operator import constants
from eks_oidc_operator.__main__ import render_crd
from eks_oidc_operator.models.crd import build_crd
from eks_oidc_testing.paths import REPO

CRD_FILE = REPO / "crds" / f"{constants.CRD_NAME}.yaml"


def _nodes(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from _nodes(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _nodes(value)


def test_the_committed_crd_is_the_generated_one() -> None:
    assert CRD_FILE.read_text() == render_crd(), "crds/ is stale: run `make crds`"


def test_the_schema_is_structural() -> None:
    schema = build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for node in _nodes(schema):
        assert not {"$ref", "anyOf", "allOf", "oneOf", "title", "propertyNames"} & node.keys()
        if "properties" in node:
            assert node.get("type") == "object"
            assert "additionalProperties" not in node


def test_every_spec_and_status_field_has_a_description() -> None:
    version = yaml.safe_load(CRD_FILE.read_text())["spec"]["versions"][0]
    root = version["schema"]["openAPIV3Schema"]["properties"]
    missing = []
    for part in ("spec", "status"):
        stack: list[tuple[str, dict[str, Any]]] = [(part, root[part])]
        while stack:
            path, node = stack.pop()
            if "description" not in node:
                missing.append(path)
            for name, child in node.get("properties", {}).items():
                stack.append((f"{path}.{name}", child))
            if "properties" in node.get("items", {}):
                stack.append((f"{path}[]", node["items"]))
    assert missing == []


def test_names_status_subresource_and_printer_columns() -> None:
    crd = build_crd()
    assert crd["metadata"]["name"] == "oidcidentityproviders.eksoidc.io"
    assert crd["spec"]["scope"] == "Namespaced"
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [column["name"] for column in version["additionalPrinterColumns"]]
    assert columns == [
        "Cluster",
        "Config",
        "Phase",
        "Ready",
        "Update",
        "Mode",
        "Paused",
        "Target",
        "Reason",
        "Message",
        "Age",
    ]
    by_name = {column["name"]: column for column in version["additionalPrinterColumns"]}
    # An observing or paused object is told apart at a glance, not only in its conditions.
    assert by_name["Mode"]["jsonPath"] == ".spec.managementPolicy"
    assert by_name["Paused"]["jsonPath"] == '.status.conditions[?(@.type=="Paused")].status'
    # Config is the config sign-in goes through now; -o wide adds the one being worked on.
    assert by_name["Config"]["jsonPath"] == ".status.servingConfigName"
    assert (by_name["Target"]["jsonPath"], by_name["Target"]["priority"]) == (
        ".status.identityProviderConfigName",
        1,
    )


def test_descriptions_are_plain_text_for_kubectl_explain() -> None:
    def descriptions(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["description"]] if isinstance(node.get("description"), str) else []
            return found + [d for value in node.values() for d in descriptions(value)]
        if isinstance(node, list):
            return [d for value in node for d in descriptions(value)]
        return []

    texts = descriptions(build_crd())
    assert texts
    marked = [t for t in texts if "``" in t or ":class:" in t or ":mod:" in t]
    assert marked == []
    assert not [t for t in texts if "\n" in t.replace("\n\n", "")]  # paragraphs on one line
