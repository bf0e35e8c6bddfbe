"""Opaque ``nextToken`` pagination that boto3's paginators accept (pure functions).

A token names the last key returned, not an offset, so a page boundary stays correct when
items are added or removed between pages. Tokens are never repeated for one listing (a
repeated token makes botocore raise ``PaginationError``), and the last page carries no token.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from eks_simulator.errors import invalid_parameter

DEFAULT_PAGE_SIZE = 100
"""EKS's documented default for ``maxResults``."""


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{key}".encode()).decode()


def _decode(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise invalid_parameter("The nextToken provided is invalid") from error
    if not raw.startswith("v1:"):
        raise invalid_parameter("The nextToken provided is invalid")
    return raw[3:]


def paginate(
    keys: Sequence[str],
    *,
    max_results: int | None,
    next_token: str | None,
    position: dict[str, int] | None = None,
) -> tuple[list[str], str | None]:
    """One page of ``keys`` (already in listing order) and the token for the next page.

    Parameters
    ----------
    keys
        The full listing in its order.
    max_results
        Page size (defaults to 100).
    next_token
        The token from the previous page, or ``None``/``""`` for the first page.
    position
        Optional key -> sort position, for listings that are not sorted by key (updates
        are listed oldest first); without it ``keys`` must be sorted ascending.
    """
    size = max_results or DEFAULT_PAGE_SIZE
    start = 0
    if next_token:
        after = _decode(next_token)
        if position is None:
            start = next((i for i, key in enumerate(keys) if key > after), len(keys))
        else:
            if after not in position:
                raise invalid_parameter("The nextToken provided is invalid")
            start = position[after] + 1
    page = list(keys[start : start + size])
    more = start + size < len(keys)
    return page, (_encode(page[-1]) if more and page else None)
