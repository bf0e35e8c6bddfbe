"""Pure: does the tenancy policy permit an object, and with which AssumeRole ExternalId.

Decided before any AWS call, from the object's namespace, ``spec.roleArn``, region and cluster.
The refusal names what was asked for and the rules that cover the namespace, so a tenant can
tell the admin exactly what to grant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.models.tenancy import TenancyPolicy, TenancyRule


@dataclass(frozen=True)
class Access:
    """The policy's answer for one object."""

    denied: str | None = None
    """Why it is not permitted (``None``: it is)."""
    rule: str | None = None
    """The rule that grants it."""
    external_id: str | None = None
    """The ExternalId for its AssumeRole, from the granting rule."""
    adopt: bool = False
    """The granting rule lets it adopt (or observe) configs the operator did not create."""


def _any(patterns: Iterable[str], value: str) -> bool:
    return any(fnmatchcase(value, pattern) for pattern in patterns)


def _misses(rule: TenancyRule, role_arn: str | None, region: str, cluster: str) -> list[str]:
    """What of the request ``rule`` does not grant (empty: it grants all of it)."""
    misses = []
    if role_arn is None and not rule.operator_identity:
        misses.append("the operator's own identity (no spec.roleArn)")
    if role_arn is not None and not _any(rule.role_arns, role_arn):
        misses.append(f"role {role_arn}")
    if not _any(rule.regions, region):
        misses.append(f"region {region or '(none)'}")
    if not _any(rule.clusters, cluster):
        misses.append(f"cluster {cluster}")
    return misses


def decide(policy: TenancyPolicy, obj: OidcIdentityProvider, region: str) -> Access:
    """Whether ``policy`` permits ``obj`` (in ``region``): the first rule granting it all wins."""
    return decide_for(
        policy, obj.metadata.namespace or "", obj.spec.role_arn, region, obj.spec.cluster_name
    )


def decide_for(
    policy: TenancyPolicy, namespace: str, role_arn: str | None, region: str, cluster: str
) -> Access:
    """:func:`decide` on the fields it reads (for objects known only from an index)."""
    covering = [rule for rule in policy.rules if _any(rule.namespaces, namespace)]
    reasons = []
    for rule in covering:
        misses = _misses(rule, role_arn, region, cluster)
        if not misses:
            external_id = rule.external_id if role_arn else None
            return Access(rule=rule.name, external_id=external_id, adopt=rule.adopt)
        reasons.append(f"rule {rule.name} does not grant {', '.join(misses)}")
    if not reasons:
        return Access(
            denied=f"no tenancy rule covers namespace {namespace}: nothing is permitted until "
            "the operator's admin grants it (the chart's tenancy.rules)"
        )
    return Access(denied=f"namespace {namespace} is not permitted this: {'; '.join(reasons)}")
