"""The only kopf-aware code: thin handlers that parse, reconcile and write status."""

from __future__ import annotations

import kopf

from eks_oidc_operator.handlers import lifecycle, oidc_identity_provider
from eks_oidc_operator.handlers.runtime import Runtime


def build_registry(runtime: Runtime) -> kopf.OperatorRegistry:
    """A registry with every handler of the operator, configured by ``runtime``."""
    registry = kopf.OperatorRegistry()
    lifecycle.register(runtime, registry)
    oidc_identity_provider.register(runtime, registry)
    return registry


__all__ = ["Runtime", "build_registry"]
