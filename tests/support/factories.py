"""Builders for objects and EKS observations, so each test row says only what matters."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eks_oidc_operator.models import (
    EksUpdate,
    EksUpdateError,
    OidcConfigSpec,
    OidcIdentityProvider,
)
from eks_oidc_operator.models.eks import EksError, ObservedCluster, ObservedConfig
from eks_oidc_operator.reconcile.context import Context
from eks_oidc_operator.reconcile.timing import Timings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ARN = "arn:aws:eks:eu-west-1:123456789012:identityproviderconfig/prod/oidc/corp/1111"
OTHER_ARN = "arn:aws:eks:eu-west-1:123456789012:identityproviderconfig/prod/oidc/corp/2222"


OWNER = "platform/corp"
"""The owner tag value of the object :func:`obj` makes."""


def obj(
    *,
    status: dict[str, Any] | None = None,
    generation: int = 1,
    deleting: bool = False,
    annotations: dict[str, str] | None = None,
    created: str | None = None,
    **spec: Any,
) -> OidcIdentityProvider:
    oidc = {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"}
    oidc.update(spec.pop("oidc", {}))
    body = {
        "metadata": {
            "name": "corp",
            "namespace": "platform",
            "uid": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
            "generation": generation,
            "annotations": annotations or {},
            **({"deletionTimestamp": "2026-11-28T12:00:00Z"} if deleting else {}),
            **({"creationTimestamp": created} if created else {}),
        },
        "spec": {"clusterName": "prod", "oidc": oidc, **spec},
        "status": status or {},
    }
    return OidcIdentityProvider.model_validate(body)


def config(
    status: str = "ACTIVE", arn: str = ARN, owner: str | None = OWNER, **fields: Any
) -> ObservedConfig:
    """A config of that name; tagged as :func:`obj`'s unless ``owner`` says another (or
    ``None``: untagged)."""
    tags = {"eksoidc.io/owner": owner} if owner is not None else {}
    fields["tags"] = {**tags, **fields.get("tags", {})}
    values: dict[str, Any] = {
        "name": "corp",
        "arn": arn,
        "cluster_name": "prod",
        "status": status,
        "issuer_url": "https://login.example.com",
        "client_id": "kubernetes",
        **fields,
    }
    return ObservedConfig(**values)


def update(
    status: str = "InProgress",
    type_: str = "AssociateIdentityProviderConfig",
    id_: str = "u-1",
    code: str | None = None,
    message: str | None = None,
) -> EksUpdate:
    errors = (EksUpdateError(error_code=code, error_message=message),) if code else ()
    return EksUpdate(id=id_, type=type_, status=status, errors=errors)


def ours(**extra: Any) -> dict[str, Any]:
    """A status that records ARN as this object's config."""
    return {
        "identityProviderConfigArn": ARN,
        "configStatus": "ACTIVE",
        "phase": "Active",
        "observedGeneration": 1,
        **extra,
    }


def ctx(
    *,
    retries: int = 0,
    polls: int = 0,
    timings: Timings | None = None,
    region: str = "eu-west-1",
    now: datetime | None = None,
) -> Context:
    """The pass's context at ``now`` (NOW), with the default schedule and a seeded jitter."""
    return Context(
        region=region,
        now=now or NOW,
        timings=timings or Timings(),
        rng=random.Random(0),
        retries=retries,
        polls=polls,
    )


@dataclass
class FakeEks:
    """A small in-memory EKS behind the EksPort protocol, recording the calls made."""

    cluster_exists: bool = True
    config: ObservedConfig | None = None
    updates: dict[str, EksUpdate] = field(default_factory=dict)
    fail: dict[str, EksError] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    recovered: EksUpdate | None = None
    version: str = "1.33"
    others: list[str] = field(default_factory=list)
    """Names of the cluster's other configs."""

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def describe_cluster(self, cluster: str) -> ObservedCluster | None:
        self._call("DescribeCluster")
        if not self.cluster_exists:
            return None
        return ObservedCluster(name=cluster, status="ACTIVE", version=self.version)

    def list_configs(self, cluster: str) -> list[str]:
        self._call("ListIdentityProviderConfigs")
        return [*self.others, *([self.config.name] if self.config else [])]

    def describe_config(self, cluster: str, name: str) -> ObservedConfig | None:
        self._call("DescribeIdentityProviderConfig")
        return self.config

    def describe_update(self, cluster: str, update_id: str) -> EksUpdate | None:
        self._call("DescribeUpdate")
        return self.updates.get(update_id)

    def find_config_update(self, cluster: str, name: str, type: str) -> EksUpdate | None:
        self._call("FindUpdate")
        return self.recovered

    def associate(
        self, cluster: str, name: str, oidc: OidcConfigSpec, tags: Mapping[str, str], token: str
    ) -> EksUpdate:
        self._call("AssociateIdentityProviderConfig")
        if self.config is not None and self.config.name == name:
            # As EKS (and the simulator): a name that is taken is refused.
            raise EksError(
                "ResourceInUseException",
                f"Identity provider config {name} already exists for cluster {cluster}",
                operation="AssociateIdentityProviderConfig",
                http_status=409,
            )
        self.config = config("CREATING", owner=None, tags=dict(tags))
        self.updates["u-new"] = update(id_="u-new")
        return self.updates["u-new"]

    def disassociate(self, cluster: str, name: str, token: str) -> EksUpdate:
        self._call("DisassociateIdentityProviderConfig")
        return update(id_="u-del", type_="DisassociateIdentityProviderConfig")

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._call("TagResource")

    def untag(self, arn: str, keys: Collection[str]) -> None:
        self._call("UntagResource")
