"""The only kopf-aware code: thin handlers that parse, run a pass and write its plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf

from eks_oidc_operator.handlers import lifecycle, oidc_identity_provider
from eks_oidc_operator.reconcile.plan import Event
from eks_oidc_operator.runtime.services import Runtime


def build_registry(runtime: Runtime) -> kopf.OperatorRegistry:
    """A registry with every handler of the operator, configured by ``runtime``."""
    registry = kopf.OperatorRegistry()
    lifecycle.register(runtime, registry)
    oidc_identity_provider.register(runtime, registry)
    return registry


def post_with_kopf(body: Mapping[str, Any], event: Event) -> None:
    """kopf's own posting: queued, sent by kopf's poster task, retried with backoff."""
    target = body if isinstance(body, kopf.Body) else kopf.Body(cast(kopf.RawBody, body))
    kopf.event(target, type=event.type, reason=event.reason, message=event.message)


__all__ = ["Runtime", "build_registry", "post_with_kopf"]
