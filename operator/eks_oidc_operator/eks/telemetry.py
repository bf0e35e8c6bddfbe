"""Every HTTP attempt of an AWS call, as botocore reports it: what the AWS-call metrics count.

botocore emits ``response-received`` once per attempt, its own retries included, with the HTTP
response or the exception. Counting there (and not around our calls) shows what EKS and STS
really saw: a throttled call that botocore retried twice is three requests, two of them 429s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # botocore itself is imported with the first EKS client
    from botocore.client import BaseClient


@dataclass(frozen=True)
class AwsResponse:
    """One attempt of one AWS call."""

    service: str
    """``eks`` or ``sts``."""
    operation: str
    """E.g. ``DescribeUpdate``."""
    status: str
    """The HTTP status (``"200"``, ``"404"``, ...), or ``"none"`` when no response came."""
    code: str
    """The error code (``ResourceNotFoundException``), the exception's class for a network
    failure (``ConnectTimeoutError``), or empty on success."""
    retry: bool
    """A botocore retry (attempt 2 or later)."""


AwsObserver = Callable[[AwsResponse], None]


def outcome(
    event_name: str,
    response_dict: Mapping[str, Any] | None,
    parsed_response: Mapping[str, Any] | None,
    exception: BaseException | None,
    context: Mapping[str, Any] | None,
) -> AwsResponse:
    """Pure: one ``response-received`` event as an :class:`AwsResponse`."""
    _, service, operation = ([*event_name.split(".", 2), "", ""])[:3]
    attempt = int(((context or {}).get("retries") or {}).get("attempt", 1))
    if response_dict is None:
        return AwsResponse(service, operation, "none", type(exception).__name__, attempt > 1)
    status = int(response_dict.get("status_code", 0))
    code = ""
    if status >= 300:
        code = str(((parsed_response or {}).get("Error") or {}).get("Code") or "")
    return AwsResponse(service, operation, str(status), code, attempt > 1)


def watch(client: BaseClient, observer: AwsObserver) -> None:
    """Report every attempt of ``client``'s calls to ``observer`` (never raising into botocore)."""

    def on_response(
        event_name: str,
        response_dict: Mapping[str, Any] | None = None,
        parsed_response: Mapping[str, Any] | None = None,
        exception: BaseException | None = None,
        context: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        with contextlib.suppress(Exception):  # a metric must never fail an AWS call
            observer(outcome(event_name, response_dict, parsed_response, exception, context))

    client.meta.events.register("response-received", on_response)
