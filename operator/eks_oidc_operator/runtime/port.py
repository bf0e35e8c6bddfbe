"""The EKS calls the reconcile layer makes: a protocol, so tests can stand in for EKS.

:class:`eks_oidc_operator.eks.calls.EksClient` implements it. Every method blocks; the handlers run
the whole pass in a worker thread, never on kopf's event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol, cast

from eks_oidc_operator.models import EksUpdate, OidcConfigSpec
from eks_oidc_operator.models.eks import ObservedCluster, ObservedConfig


class EksPort(Protocol):
    """The EKS calls of one (region, role)."""

    def describe_cluster(self, cluster: str) -> ObservedCluster | None: ...
    def describe_config(self, cluster: str, name: str) -> ObservedConfig | None: ...
    def list_configs(self, cluster: str) -> list[str]: ...
    def describe_update(self, cluster: str, update_id: str) -> EksUpdate | None: ...
    def find_config_update(self, cluster: str, name: str, type: str) -> EksUpdate | None: ...
    def associate(
        self,
        cluster: str,
        name: str,
        oidc: OidcConfigSpec,
        tags: Mapping[str, str],
        token: str,
    ) -> EksUpdate: ...
    def disassociate(self, cluster: str, name: str, token: str) -> EksUpdate: ...
    def tag(self, arn: str, tags: Mapping[str, str]) -> None: ...
    def untag(self, arn: str, keys: Collection[str]) -> None: ...


def before_each_call(port: EksPort, hook: Callable[[str], None]) -> EksPort:
    """``port`` whose every call first runs ``hook`` with the call's name (which may raise to
    stop the call, or wait)."""
    return cast(EksPort, _Hooked(port, hook))


class _Hooked:
    def __init__(self, port: EksPort, hook: Callable[[str], None]) -> None:
        self._port = port
        self._hook = hook

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._port, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._hook(name)
            return attribute(*args, **kwargs)

        return call
