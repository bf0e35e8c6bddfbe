"""Generate the CustomResourceDefinition from the pydantic models: one source of truth.

pydantic emits JSON Schema (``$ref``s, ``anyOf`` with ``null`` for optional fields, titles);
Kubernetes wants a *structural* OpenAPI v3 schema (everything inlined, one type per node, no
``additionalProperties`` beside ``properties``). :func:`structural` converts the one into the
other; :func:`build_crd` wraps the result into the CRD with names, printer columns and the
status subresource. Pure: no I/O, so tests compare its output with the committed ``crds/`` file.
"""

from __future__ import annotations

import re
from typing import Any

from eks_oidc_operator import constants
from eks_oidc_operator.models.spec import MAX_CONFIG_NAME, OidcIdentityProviderSpec
from eks_oidc_operator.models.status import OidcIdentityProviderStatus

JsonSchema = dict[str, Any]

# JSON Schema keywords that structural schemas forbid or that only add noise to `kubectl explain`.
_DROPPED_KEYS = frozenset({"title", "propertyNames", "$defs"})


def _resolve(node: JsonSchema, defs: JsonSchema) -> JsonSchema:
    """Inline a ``$ref``, keeping sibling keys (pydantic puts a field's description beside it)."""
    if "$ref" not in node:
        return node
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    siblings = {key: value for key, value in node.items() if key != "$ref"}
    return {**target, **siblings}


def _unwrap_optional(node: JsonSchema) -> JsonSchema:
    """``anyOf: [X, {type: null}]`` becomes X: in Kubernetes, optional means "may be absent"."""
    variants = node.get("anyOf")
    if not variants:
        return node
    non_null = [variant for variant in variants if variant.get("type") != "null"]
    if len(non_null) != 1:
        msg = f"cannot express a union in a structural schema: {variants}"
        raise ValueError(msg)
    rest = {key: value for key, value in node.items() if key != "anyOf"}
    return {**non_null[0], **rest}


_LITERAL = re.compile(r"``([^`]*)``")
_ROLE = re.compile(r":\w+:`~?([^`]*)`")


def plain(text: str) -> str:
    """A docstring as ``kubectl explain`` should show it: no reStructuredText markup
    (double backticks, ``:class:`` roles), and each paragraph on one line."""
    text = _LITERAL.sub(r"\1", text)
    text = _ROLE.sub(lambda match: match.group(1).rsplit(".", 1)[-1], text)
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def structural(node: JsonSchema, defs: JsonSchema) -> JsonSchema:
    """Convert one pydantic JSON-Schema node (recursively) into a structural OpenAPI schema."""
    node = _unwrap_optional(_resolve(node, defs))
    node = _unwrap_optional(_resolve(node, defs))  # a $ref inside anyOf resolves on the 2nd pass
    return {
        key: _converted(key, value, defs) for key, value in node.items() if _kept(key, value, node)
    }


def _kept(key: str, value: Any, node: JsonSchema) -> bool:
    """Whether ``node``'s ``key`` has a place in the structural schema."""
    if key in _DROPPED_KEYS or (key == "default" and value is None):
        return False
    # Structural schemas forbid a boolean `additionalProperties` beside `properties`; pruning
    # does its job.
    return not (
        key == "additionalProperties" and not isinstance(value, dict) and "properties" in node
    )


def _converted(key: str, value: Any, defs: JsonSchema) -> Any:
    """The structural form of a kept key's value: its subschemas converted, its description
    made plain, anything else as it is."""
    if key == "properties":
        return {name: structural(child, defs) for name, child in value.items()}
    if key == "items" or (key == "additionalProperties" and isinstance(value, dict)):
        return structural(value, defs)
    if key == "description" and isinstance(value, str):
        return plain(value)
    return value


def _schema_of(
    model: type[OidcIdentityProviderSpec] | type[OidcIdentityProviderStatus],
) -> JsonSchema:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return structural(raw, raw.get("$defs", {}))


def _column(name: str, json_path: str, description: str, **extra: Any) -> JsonSchema:
    return {
        "name": name,
        "type": "string",
        "jsonPath": json_path,
        "description": description,
        **extra,
    }


PRINTER_COLUMNS: list[JsonSchema] = [
    _column("Cluster", ".spec.clusterName", "EKS cluster"),
    _column("Config", ".status.servingConfigName", "The ACTIVE config sign-in goes through now"),
    _column("Phase", ".status.phase", "One-word summary"),
    _column(
        "Ready",
        f'.status.conditions[?(@.type=="{constants.CONDITION_READY}")].status',
        "Ready condition",
    ),
    _column("Update", ".status.update.status", "Status of the last EKS update"),
    # Neither shows in the phase, which says where EKS stands: an object the operator only
    # observes, or one it leaves alone for now, must be told apart at a glance.
    _column("Mode", ".spec.managementPolicy", "Full (managed) or Observe (only read)"),
    _column(
        "Paused",
        f'.status.conditions[?(@.type=="{constants.CONDITION_PAUSED}")].status',
        "True while the eksoidc.io/paused annotation holds the object",
    ),
    _column(
        "Target",
        ".status.identityProviderConfigName",
        "The config the object works on (the new one during a replacement)",
        priority=1,
    ),
    _column(
        "Reason",
        f'.status.conditions[?(@.type=="{constants.CONDITION_READY}")].reason',
        "Why the object is (not) Ready",
        priority=1,
    ),
    _column(
        "Message",
        f'.status.conditions[?(@.type=="{constants.CONDITION_READY}")].message',
        "The Ready condition's message (for errors: EKS's own words)",
        priority=1,
    ),
    _column("Age", ".metadata.creationTimestamp", "Age", type="date"),
]
"""What ``kubectl get oidcidp`` shows."""


NAME_FITS_EKS: JsonSchema = {
    "rule": (
        "has(self.spec.oidc.identityProviderConfigName) || "
        f"size(self.metadata.name) <= {MAX_CONFIG_NAME}"
    ),
    "message": (
        f"metadata.name is longer than {MAX_CONFIG_NAME} characters, EKS's limit for the config "
        "name it defaults to: set spec.oidc.identityProviderConfigName (1-100 characters)"
    ),
}
"""Refused at apply time: the config name defaults to metadata.name, which EKS would refuse."""


def build_crd() -> JsonSchema:
    """Return the complete CustomResourceDefinition as a plain dict, ready for YAML."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": constants.CRD_NAME},
        "spec": {
            "group": constants.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": constants.KIND,
                "listKind": f"{constants.KIND}List",
                "plural": constants.PLURAL,
                "singular": constants.SINGULAR,
                "shortNames": list(constants.SHORT_NAMES),
                "categories": ["eks", "aws"],
            },
            "versions": [
                {
                    "name": constants.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": _object_schema()},
                }
            ],
        },
    }


def _object_schema() -> JsonSchema:
    """The schema of a whole object: metadata, the spec and the status."""
    status_schema = _schema_of(OidcIdentityProviderStatus)
    # Served on read before the operator's first write, so kstatus (Flux, kubectl) sees
    # observedGeneration 0 < generation and says InProgress instead of Current.
    status_schema["default"] = {"observedGeneration": 0}
    return {
        "type": "object",
        "description": (
            "An OIDC identity provider associated with an EKS cluster. "
            "The operator associates it, follows the EKS update to its end, "
            "keeps it in line with the spec and disassociates it on delete."
        ),
        "required": ["spec"],
        "x-kubernetes-validations": [NAME_FITS_EKS],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": _schema_of(OidcIdentityProviderSpec),
            "status": status_schema,
        },
    }
