"""The cluster admin's tenancy policy: which namespaces may use which AWS identities, where.

It is written by the admin in the chart's values (``tenancy.rules``), rendered into a ConfigMap
in the operator's own namespace (which tenants cannot write) and mounted as a file. An object is
permitted when one rule matches its namespace, its identity (``spec.roleArn``, or the operator's
own when it has none), its region and its cluster. Patterns are shell-style globs (``*``, ``?``,
``[...]``), matched case-sensitively.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from eks_oidc_operator.models.base import CamelModel

Pattern = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class TenancyRule(CamelModel):
    """One grant: these namespaces may use these identities in these regions and clusters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=253)] = Field(
        description="Named in NotPermitted messages and in logs."
    )
    namespaces: tuple[Pattern, ...] = Field(
        min_length=1, description="Namespaces the rule covers (globs; '*' is every namespace)."
    )
    role_arns: tuple[Pattern, ...] = Field(
        default=(), description="spec.roleArn values the namespaces may use (globs)."
    )
    operator_identity: bool = Field(
        default=False,
        description="Objects without spec.roleArn (the operator's own credentials) are permitted.",
    )
    regions: tuple[Pattern, ...] = Field(
        default=("*",), min_length=1, description="Regions (globs); every region by default."
    )
    clusters: tuple[Pattern, ...] = Field(
        default=("*",), min_length=1, description="EKS cluster names (globs); any by default."
    )
    adopt: bool = Field(
        default=False,
        description=(
            "The namespaces may adopt, or observe, EKS configs the operator did not create (by "
            "Terraform, eksctl, another team): off by default, since adopting a config makes "
            "deleting the object remove it."
        ),
    )
    external_id: Annotated[str, StringConstraints(min_length=2, max_length=1224)] | None = Field(
        default=None,
        description=(
            "ExternalId sent with AssumeRole for the roles this rule grants (the role's trust "
            "policy should require it)."
        ),
    )


_NAMESPACE_SAMPLES = ("kube-system", "a", "team-b-prod-9")
_ROLE_SAMPLES = (
    "arn:aws:iam::111111111111:role/admin",
    "arn:aws:iam::999999999999:role/path/to/x",
    "arn:aws-cn:iam::222222222222:role/eks-oidc-operator-z",
)


def _matches_all(pattern: str, samples: tuple[str, ...]) -> bool:
    return all(fnmatchcase(sample, pattern) for sample in samples)


class TenancyPolicy(CamelModel):
    """The whole policy: the rules, tried in order; the first that matches grants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[TenancyRule, ...] = ()

    def wildcards(self) -> tuple[str, ...]:
        """The rules that grant every namespace, or any role: each is worth a warning, since
        one tenant's typo then reaches every cluster the identity can. A pattern counts when
        it matches unlike samples alike (``*``, ``arn:aws:iam::*:role/*``, ``?*``)."""
        return tuple(
            rule.name
            for rule in self.rules
            if any(_matches_all(p, _NAMESPACE_SAMPLES) for p in rule.namespaces)
            or any(_matches_all(p, _ROLE_SAMPLES) for p in rule.role_arns)
        )


DEFAULT_POLICY = TenancyPolicy()
"""Without a policy: nothing is permitted. A cluster admin grants each namespace what it may
use; an operator that let every namespace use its own identity let any tenant attach an
identity provider she controls to any cluster that identity reaches."""
