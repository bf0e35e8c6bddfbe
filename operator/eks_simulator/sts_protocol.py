"""STS's query wire protocol (``AssumeRole`` only), driven by botocore's own service model.

A query-protocol request is ``POST /`` with a form body: ``Action``, ``Version`` and the input
members by their model names (``RoleArn=...&RoleSessionName=...``). Success is XML,
``<AssumeRoleResponse><AssumeRoleResult>members</AssumeRoleResult><ResponseMetadata>``; an
error is ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``.

The API version, the members and their constraints (required, lengths, ranges, patterns) and
the output members all come from ``botocore/data/sts/2011-06-15/service-2.json``, as EKS's come
from its model in ``protocol.py``. Only the statuses of the codes STS sends but does not model
(``AccessDenied``, ``ValidationError``, ...) are written here. Like ``protocol.py`` this knows
nothing about state: raw form in, validated parameters out; response members in, bytes out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

from botocore.loaders import Loader
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape

from eks_simulator.errors import StsError
from eks_simulator.protocol import WireResponse

STS_OPERATIONS: tuple[str, ...] = ("AssumeRole",)
"""The STS operations the simulator serves."""

UNMODELED_STATUS: dict[str, int] = {
    "AccessDenied": 403,
    "ValidationError": 400,
    "MissingAction": 400,
    "InvalidAction": 400,
    "InternalFailure": 500,
}
"""Codes STS sends that its model has no error shape for, with their HTTP status."""

XML_CONTENT_TYPE = "text/xml"

_SCALARS = frozenset({"string", "integer", "long", "boolean"})


def _wire_path(member: str) -> str:
    """How STS names a member in its validation messages: ``RoleArn`` -> ``roleArn``."""
    return member[:1].lower() + member[1:]


def _problem(path: str, value: object, constraint: str) -> str:
    return f"Value {value} at '{path}' failed to satisfy constraint: {constraint}"


class StsProtocol:
    """Parses STS query requests and serialises STS's XML responses using botocore's model."""

    def __init__(self) -> None:
        self.model = ServiceModel(Loader().load_service_model("sts", "service-2"), "sts")
        self.version: str = self.model.api_version
        self.namespace: str = self.model.metadata["xmlNamespace"]
        self._operations = {name: self.model.operation_model(name) for name in STS_OPERATIONS}
        self._error_status = {
            shape.metadata["error"]["code"]: int(shape.metadata["error"]["httpStatusCode"])
            for shape in self.model.error_shapes
            if "error" in shape.metadata
        }
        self._patterns: dict[str, re.Pattern[str]] = {}

    # ------------------------------------------------------------------ requests

    @staticmethod
    def form(body: bytes) -> dict[str, str]:
        """The form fields of a request body; a field given twice keeps its first value."""
        fields: dict[str, str] = {}
        for key, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
            fields.setdefault(key, value)
        return fields

    def operation_name(self, form: Mapping[str, str]) -> str | None:
        """The served operation a form names (at the served API version), or ``None``."""
        action = form.get("Action")
        if action not in self._operations or form.get("Version") != self.version:
            return None
        return action

    def parse(self, form: Mapping[str, str]) -> tuple[OperationModel, dict[str, Any]]:
        """The operation and its parameters (model member names), validated as STS does.

        Raises
        ------
        StsError
            ``MissingAction`` or ``InvalidAction`` (an operation this simulator does not serve,
            or another API version); ``ValidationError`` listing every member that breaks a
            model constraint, in STS's "N validation errors detected: ...; ..." form.
        """
        action = form.get("Action")
        if not action:
            raise StsError("MissingAction", "Missing Action")
        operation = self._operations.get(action)
        version = form.get("Version", "")
        if operation is None or version != self.version:
            raise StsError(
                "InvalidAction", f"Could not find operation {action} for version {version}"
            )
        shape = operation.input_shape
        params: dict[str, Any] = {}
        problems: list[str] = []
        if isinstance(shape, StructureShape):
            for member, member_shape in shape.members.items():
                raw = form.get(member_shape.serialization.get("name", member))
                problem = self._check(
                    member, member_shape, raw, required=member in shape.required_members
                )
                if problem is not None:
                    problems.append(problem)
                elif raw is not None and member_shape.type_name in _SCALARS:
                    params[member] = self._scalar(member_shape, raw)
        if problems:
            plural = "s" if len(problems) > 1 else ""
            raise StsError(
                "ValidationError",
                f"{len(problems)} validation error{plural} detected: {'; '.join(problems)}",
            )
        return operation, params

    def _check(self, member: str, shape: Shape, raw: str | None, *, required: bool) -> str | None:
        """What is wrong with one top-level member, or ``None``.

        Lists and structures (``Tags.member.1.Key=...``) are accepted unchecked: the simulator
        does not use them, and the operator never sends them.
        """
        path = _wire_path(member)
        if raw is None:
            return _problem(path, "null", "Member must not be null") if required else None
        if shape.type_name in ("integer", "long"):
            return self._check_integer(shape, raw, path)
        if shape.type_name == "string":
            return self._check_string(shape, raw, path)
        return None

    def _check_string(self, shape: Shape, raw: str, path: str) -> str | None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        shown = f"'{raw}'"
        if low is not None and len(raw) < low:
            return _problem(path, shown, f"Member must have length greater than or equal to {low}")
        if high is not None and len(raw) > high:
            return _problem(path, shown, f"Member must have length less than or equal to {high}")
        pattern = shape.metadata.get("pattern")
        if pattern and self._pattern(pattern).fullmatch(raw) is None:
            return _problem(
                path, shown, f"Member must satisfy regular expression pattern: {pattern}"
            )
        return None

    @staticmethod
    def _check_integer(shape: Shape, raw: str, path: str) -> str | None:
        try:
            value = int(raw)
        except ValueError:
            return _problem(path, f"'{raw}'", "Member must be an integer")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            return _problem(
                path, f"'{value}'", f"Member must have value greater than or equal to {low}"
            )
        if high is not None and value > high:
            return _problem(
                path, f"'{value}'", f"Member must have value less than or equal to {high}"
            )
        return None

    def _pattern(self, pattern: str) -> re.Pattern[str]:
        compiled = self._patterns.get(pattern)
        if compiled is None:
            # ASCII: STS's patterns are Java's, whose \w is [A-Za-z0-9_], never other letters.
            compiled = self._patterns[pattern] = re.compile(pattern, re.ASCII)
        return compiled

    @staticmethod
    def _scalar(shape: Shape, raw: str) -> Any:
        if shape.type_name in ("integer", "long"):
            return int(raw)
        if shape.type_name == "boolean":
            return raw.lower() == "true"
        return raw

    # ------------------------------------------------------------------ responses

    def success(
        self, operation: OperationModel, result: Mapping[str, Any], request_id: str
    ) -> WireResponse:
        """HTTP 200 with the members of the output shape (others are a bug: ValueError)."""
        root = ET.Element(f"{operation.name}Response", xmlns=self.namespace)
        shape = operation.output_shape
        if shape is not None:
            wrapper = ET.SubElement(root, shape.serialization.get("resultWrapper", "Result"))
            self._serialise(wrapper, shape, result)
        metadata = ET.SubElement(root, "ResponseMetadata")
        ET.SubElement(metadata, "RequestId").text = request_id
        return self._xml(200, root, request_id)

    def _serialise(self, parent: ET.Element, shape: Shape, value: Any) -> None:
        """``value`` as the children (structure, list) or the text (scalar) of ``parent``."""
        if isinstance(shape, StructureShape):
            for key, item in value.items():
                if item is None:
                    continue  # optional members are omitted, never empty
                member = shape.members.get(key)
                if member is None:
                    msg = f"{shape.name} has no member {key!r}"
                    raise ValueError(msg)
                child = ET.SubElement(parent, member.serialization.get("name", key))
                self._serialise(child, member, item)
        elif isinstance(shape, ListShape):
            for item in value:
                self._serialise(ET.SubElement(parent, "member"), shape.member, item)
        elif shape.type_name == "timestamp":
            # ISO 8601 in UTC, as STS sends Expiration.
            parent.text = datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif shape.type_name == "boolean":
            parent.text = "true" if value else "false"
        else:
            parent.text = str(value)

    def error(self, error: StsError, request_id: str) -> WireResponse:
        """STS's XML error: status from the model or :data:`UNMODELED_STATUS` (else 400)."""
        status = self._error_status.get(error.code) or UNMODELED_STATUS.get(error.code, 400)
        root = ET.Element("ErrorResponse", xmlns=self.namespace)
        details = ET.SubElement(root, "Error")
        ET.SubElement(details, "Type").text = "Receiver" if status >= 500 else "Sender"
        ET.SubElement(details, "Code").text = error.code
        ET.SubElement(details, "Message").text = error.message
        ET.SubElement(root, "RequestId").text = request_id
        return self._xml(status, root, request_id)

    @staticmethod
    def _xml(status: int, root: ET.Element, request_id: str) -> WireResponse:
        body = ET.tostring(root, encoding="unicode").encode()
        return WireResponse(
            status, body, {"Content-Type": XML_CONTENT_TYPE, "x-amzn-RequestId": request_id}
        )
