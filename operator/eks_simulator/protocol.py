"""EKS's REST-JSON wire protocol, driven entirely by botocore's own service model.

Routes (method + URI template), where each input member lives (URI label, query string or
JSON body), every shape constraint, which error codes exist and their HTTP statuses, and the
members each response may carry all come from ``botocore/data/eks/2017-11-01/service-2.json``
- nothing is re-typed here. The class turns raw HTTP pieces into validated parameters and
response members back into bytes; it knows nothing about state or time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from eks_simulator.errors import EksError

OPERATIONS: tuple[str, ...] = (
    "CreateCluster",
    "DescribeCluster",
    "ListClusters",
    "DeleteCluster",
    "AssociateIdentityProviderConfig",
    "DisassociateIdentityProviderConfig",
    "DescribeIdentityProviderConfig",
    "ListIdentityProviderConfigs",
    "DescribeUpdate",
    "ListUpdates",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
)
"""The EKS operations the simulator serves."""

UNMODELED_STATUS: dict[str, int] = {"TooManyRequestsException": 429}
"""Codes EKS has sent that are not in the model (docs/eks-behaviour.md §2.2), with their status."""

JSON_CONTENT_TYPE = "application/json"

ARN_LABELS = frozenset({"{resourceArn}"})
"""Trailing URI labels that take the rest of the path, like a greedy ``{label+}``: an ARN
contains ``/``, which botocore percent-encodes but other clients may not."""


@dataclass(frozen=True, slots=True)
class Route:
    """One operation's URI template, split on ``/``; ``None`` entries are labels."""

    operation: OperationModel
    literals: tuple[str | None, ...]
    labels: tuple[str, ...]
    greedy_tail: bool
    """The last label takes the rest of the path (see :data:`ARN_LABELS`)."""


@dataclass(frozen=True, slots=True)
class WireResponse:
    """An HTTP response, independent of the web framework."""

    status: int
    body: bytes
    headers: dict[str, str]


class ValidationFailedError(Exception):
    """A request member broke a model constraint (mapped to a 400 per operation)."""


def _coral_message(path: str, value: Any, constraint: str) -> str:
    """AWS's usual validation text ("1 validation error detected: ...")."""
    shown = value if isinstance(value, str | int | float) else json.dumps(value)
    return (
        f"1 validation error detected: Value '{shown}' at '{path}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _require(ok: bool, path: str, value: Any, constraint: str) -> None:
    """Raise :class:`ValidationFailedError` for ``path`` unless ``ok``."""
    if not ok:
        raise ValidationFailedError(_coral_message(path, value, constraint))


class EksProtocol:
    """Parses EKS requests and serialises EKS responses using botocore's model."""

    def __init__(self) -> None:
        loader = Loader()
        self.model = ServiceModel(loader.load_service_model("eks", "service-2"), "eks")
        self._routes: dict[str, list[Route]] = {}
        for name in OPERATIONS:
            operation = self.model.operation_model(name)
            template = operation.http["requestUri"].split("?")[0].removeprefix("/").split("/")
            literals = tuple(None if part.startswith("{") else part for part in template)
            labels = tuple(part.strip("{}+") for part in template if part.startswith("{"))
            greedy = template[-1].endswith("+}") or template[-1] in ARN_LABELS
            route = Route(operation, literals, labels, greedy_tail=greedy)
            self._routes.setdefault(operation.http["method"], []).append(route)
        self._error_shapes: dict[str, Shape] = {
            shape.name: shape for shape in self.model.error_shapes
        }

    # ------------------------------------------------------------------ requests

    def route(self, method: str, raw_path: str) -> tuple[OperationModel, dict[str, str]] | None:
        """The operation a request targets and its decoded URI labels, or ``None``.

        Matching is done on the *raw* (still percent-encoded) path so that an encoded
        ``/`` inside a label (``%2F`` in an ARN) does not split it.
        """
        # No stripping: botocore sends an empty label as-is (``GET /clusters/`` is
        # DescribeCluster with name "", not ListClusters), so every segment counts.
        parts = raw_path.removeprefix("/").split("/")
        for route in self._routes.get(method, ()):
            literals = route.literals
            if route.greedy_tail:
                fixed = len(literals) - 1
                if len(parts) < len(literals) or parts[:fixed] != list(literals[:fixed]):
                    continue
                return route.operation, {route.labels[0]: unquote("/".join(parts[fixed:]))}
            if len(parts) != len(literals):
                continue
            if all(lit is None or lit == part for lit, part in zip(literals, parts, strict=True)):
                values = [unquote(p) for lit, p in zip(literals, parts, strict=True) if lit is None]
                return route.operation, dict(zip(route.labels, values, strict=True))
        return None

    def parse(
        self,
        operation: OperationModel,
        labels: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: bytes,
    ) -> dict[str, Any]:
        """Request parameters (model member names), validated against the input shape.

        Raises
        ------
        EksError
            ``InvalidParameterException`` (or ``BadRequestException`` for operations that
            model only that) when the body is not JSON or a member breaks a constraint.
        """
        shape = operation.input_shape
        params: dict[str, Any] = {}
        if shape is None:
            return params
        try:
            document: Any = json.loads(body) if body.strip() else {}
        except ValueError as error:
            raise self._validation_error(operation, "The request body is not valid JSON") from error
        if not isinstance(document, dict):
            raise self._validation_error(operation, "The request body must be a JSON object")
        try:
            for member, member_shape in shape.members.items():
                location = member_shape.serialization.get("location")
                wire = member_shape.serialization.get("name", member)
                if location == "uri":
                    params[member] = labels.get(wire, "")
                elif location == "querystring":
                    values = query.get(wire)
                    if values:
                        params[member] = self._from_query(member_shape, values, wire)
                elif location is None and member in document:
                    params[member] = document[member]
            self._validate(shape, params, "")
        except ValidationFailedError as error:
            raise self._validation_error(operation, str(error)) from error
        return params

    def _validation_error(self, operation: OperationModel, message: str) -> EksError:
        modeled = {shape.name for shape in operation.error_shapes}
        if "InvalidParameterException" not in modeled and "BadRequestException" in modeled:
            return EksError("BadRequestException", message)
        return EksError("InvalidParameterException", message)

    @staticmethod
    def _from_query(shape: Shape, values: list[str], wire: str) -> Any:
        if isinstance(shape, ListShape):
            return list(values)
        value = values[0]
        if shape.type_name in ("integer", "long"):
            try:
                return int(value)
            except ValueError:
                raise ValidationFailedError(
                    _coral_message(wire, value, "Member must be an integer")
                ) from None
        if shape.type_name == "boolean":
            return value.lower() == "true"
        return value

    def _validate(self, shape: Shape, value: Any, path: str) -> None:
        """Type, required, length/count/range, pattern and enum checks; first error wins.

        One checker per kind of shape; containers recurse into their members.
        """
        name = path or "request"
        if isinstance(shape, StructureShape):
            self._validate_structure(shape, value, path)
        elif isinstance(shape, ListShape):
            self._validate_list(shape, value, name)
        elif isinstance(shape, MapShape):
            self._validate_map(shape, value, name)
        elif shape.type_name == "string":
            self._validate_string(shape, value, name)
        elif shape.type_name in ("integer", "long"):
            self._validate_integer(shape, value, name)
        elif shape.type_name == "boolean":
            _require(isinstance(value, bool), name, value, "Member must be a boolean")

    def _validate_structure(self, shape: StructureShape, value: Any, path: str) -> None:
        """An object: required members present, then each known member (unknown ones pass)."""
        _require(isinstance(value, dict), path or "request", value, "Member must be an object")
        for required in shape.required_members:
            if value.get(required) is None:
                where = f"{path}.{required}" if path else required
                raise ValidationFailedError(
                    _coral_message(where, "null", "Member must not be null")
                )
        members = shape.members
        for key, item in value.items():
            member = members.get(key)
            if member is not None and item is not None:
                self._validate(member, item, f"{path}.{key}" if path else key)

    def _validate_list(self, shape: ListShape, value: Any, name: str) -> None:
        """A list: its length, then each item (``name.1.member``, ...)."""
        _require(isinstance(value, list), name, value, "Member must be a list")
        self._check_size(shape, value, name)
        for index, item in enumerate(value):
            self._validate(shape.member, item, f"{name}.{index + 1}.member")

    def _validate_map(self, shape: MapShape, value: Any, name: str) -> None:
        """A map: its size, then each key and each value."""
        _require(isinstance(value, dict), name, value, "Member must be a map")
        self._check_size(shape, value, name)
        for key, item in value.items():
            self._validate(shape.key, key, f"{name}.key")
            self._validate(shape.value, item, f"{name}.{key}")

    def _validate_string(self, shape: Shape, value: Any, name: str) -> None:
        """A string: its length, its pattern, its enum."""
        _require(isinstance(value, str), name, value, "Member must be a string")
        self._check_size(shape, value, name)
        pattern = shape.metadata.get("pattern")
        # Model patterns are anchored at the start only; EKS documents the rules as
        # "can contain only ...", so the whole value must match.
        if pattern:
            _require(
                re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None,
                name,
                value,
                f"Member must satisfy regular expression pattern: {pattern}",
            )
        enum = shape.metadata.get("enum")
        if enum:
            _require(
                value in enum,
                name,
                value,
                f"Member must satisfy enum value set: [{', '.join(enum)}]",
            )

    @staticmethod
    def _validate_integer(shape: Shape, value: Any, name: str) -> None:
        """An integer (``bool`` is not one): its range."""
        _require(
            isinstance(value, int) and not isinstance(value, bool),
            name,
            value,
            "Member must be an integer",
        )
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None:
            _require(
                value >= low, name, value, f"Member must have value greater than or equal to {low}"
            )
        if high is not None:
            _require(
                value <= high, name, value, f"Member must have value less than or equal to {high}"
            )

    @staticmethod
    def _check_size(shape: Shape, value: str | list[Any] | dict[Any, Any], name: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and len(value) < low:
            raise ValidationFailedError(
                _coral_message(
                    name, value, f"Member must have length greater than or equal to {low}"
                )
            )
        if high is not None and len(value) > high:
            raise ValidationFailedError(
                _coral_message(name, value, f"Member must have length less than or equal to {high}")
            )

    # ------------------------------------------------------------------ responses

    def success(
        self, operation: OperationModel, result: Mapping[str, Any], request_id: str
    ) -> WireResponse:
        """HTTP 200 with the members of the output shape (others are a bug: ValueError)."""
        shape = operation.output_shape
        document = self._serialise(shape, result) if shape is not None else {}
        return WireResponse(
            200,
            json.dumps(document, separators=(",", ":")).encode(),
            {"Content-Type": JSON_CONTENT_TYPE, "x-amzn-RequestId": request_id},
        )

    def _serialise(self, shape: Shape, value: Any) -> Any:
        if isinstance(shape, StructureShape):
            members = shape.members
            out: dict[str, Any] = {}
            for key, item in value.items():
                if item is None:
                    continue  # optional members are omitted, never null
                member = members.get(key)
                if member is None:
                    msg = f"{shape.name} has no member {key!r}"
                    raise ValueError(msg)
                out[key] = self._serialise(member, item)
            return out
        if isinstance(shape, ListShape):
            return [self._serialise(shape.member, item) for item in value]
        if isinstance(shape, MapShape):
            return {key: self._serialise(shape.value, item) for key, item in value.items()}
        if shape.type_name == "timestamp":
            return round(float(value), 3)  # epoch seconds, as EKS sends them
        return value

    def error(
        self, error: EksError, request_id: str, *, retry_after_ms: int | None = None
    ) -> WireResponse:
        """An error response as botocore parses it (docs/eks-behaviour.md §2.1).

        Status from the model's error shape; ``x-amzn-ErrorType`` names the code; the JSON
        body carries ``message`` plus the shape's modeled members only.
        """
        shape = self._error_shapes.get(error.code)
        if isinstance(shape, StructureShape):
            status = int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
            members = {
                k: v for k, v in error.members.items() if k in shape.members and v is not None
            }
        else:
            status = UNMODELED_STATUS.get(error.code, 400)
            members = {}
        headers = {
            "Content-Type": JSON_CONTENT_TYPE,
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": error.code,
        }
        if retry_after_ms is not None:
            headers["x-amz-retry-after"] = str(retry_after_ms)
        body = json.dumps({"message": error.message, **members}, separators=(",", ":")).encode()
        return WireResponse(status, body, headers)
