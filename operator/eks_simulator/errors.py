"""The exception types the simulator's domain raises: an EKS API error, an STS API error.

The domain layers (``state.py``, ``sts.py``) speak in error *codes* and messages only. Which
HTTP status a code maps to, and how it goes on the wire, is the protocol layers' business
(``protocol.py`` and ``sts_protocol.py``), so nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class EksError(Exception):
    """An error EKS would return, such as ``ResourceNotFoundException``.

    Parameters
    ----------
    code
        The EKS error code (the modeled error shape name, or an unmodeled code such as
        ``TooManyRequestsException``).
    message
        The human-readable message, copied verbatim into the body's ``message``.
    **members
        Extra modeled members of the error shape, e.g. ``clusterName``. Members the
        shape does not model are dropped when serialising.
    """

    def __init__(self, code: str, message: str, **members: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.members: dict[str, Any] = members


def not_found_cluster(name: str, *, trailing_period: bool = True) -> EksError:
    """404 for a missing cluster, with the message AWS was observed to send.

    The period is present on DescribeCluster and absent on ListIdentityProviderConfigs in
    the public captures (docs/eks-behaviour.md §2.3), so callers choose.
    """
    suffix = "." if trailing_period else ""
    return EksError(
        "ResourceNotFoundException",
        f"No cluster found for name: {name}{suffix}",
        clusterName=name,
    )


def invalid_parameter(message: str, cluster: str | None = None) -> EksError:
    """400 ``InvalidParameterException``, optionally naming the cluster."""
    if cluster is None:
        return EksError("InvalidParameterException", message)
    return EksError("InvalidParameterException", message, clusterName=cluster)


def invalid_request(message: str, cluster: str) -> EksError:
    """400 ``InvalidRequestException``: the request conflicts with the cluster's state."""
    return EksError("InvalidRequestException", message, clusterName=cluster)


class StsError(Exception):
    """An error STS would return, such as ``AccessDenied`` or ``ValidationError``.

    Apart from :class:`EksError` because the two services' errors never meet: they go on the
    wire in different protocols (REST-JSON and query/XML) with different status tables.

    Parameters
    ----------
    code
        The STS error code (``<Error><Code>``).
    message
        The human-readable message (``<Error><Message>``), copied verbatim.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
