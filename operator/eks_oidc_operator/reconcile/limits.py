"""Pure: EKS's limits that the operator checks before a call, so a refusal is known up front.

EKS allows one OIDC identity provider per cluster below Kubernetes 1.32 and ten from 1.32
(docs/eks-behaviour.md §7). An Associate past the limit is refused with the same
``InvalidRequestException`` that a cluster still updating gets, which reads as transient;
counting first turns it into a plain "limit reached" with nothing sent.
"""

from __future__ import annotations

import re

_MINOR = re.compile(r"^1\.(\d+)")

MANY_PROVIDERS_FROM = 32
"""The first Kubernetes minor version (1.x) whose clusters may have more than one provider."""


def provider_limit(version: str) -> int | None:
    """How many OIDC providers a cluster of Kubernetes ``version`` may have; ``None`` when the
    version is unknown (EKS then decides, and its refusal is handled after the call)."""
    match = _MINOR.match(version)
    if match is None:
        return None
    return 10 if int(match.group(1)) >= MANY_PROVIDERS_FROM else 1
