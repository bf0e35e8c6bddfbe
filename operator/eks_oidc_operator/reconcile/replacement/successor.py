"""Pure: make-before-break replacement, the names and choices it rests on.

EKS cannot edit a config, and it refuses a second config of the same name, so new settings go
into a second config under a *derived* name next to the old one; the old one is disassociated
once the new one is ACTIVE. The derived name is a function of the base name and the settings
alone, so a pass after a crash finds the config an earlier pass associated (by describing that
name) instead of associating a third one.
"""

from __future__ import annotations

import hashlib
import json

from eks_oidc_operator.models import (
    OidcConfigSpec,
    OidcIdentityProvider,
    ReplacementPolicy,
)
from eks_oidc_operator.models.eks import ObservedCluster, ObservedConfig
from eks_oidc_operator.models.oidc_fields import OIDC_FIELDS
from eks_oidc_operator.models.spec import MAX_CONFIG_NAME
from eks_oidc_operator.reconcile.limits import MANY_PROVIDERS_FROM, provider_limit
from eks_oidc_operator.reconcile.replacement.delta import normalised_issuer, oidc_differences

DIGEST_LENGTH = 8
"""Hex digits of the settings' digest in a derived name."""


def successor_name(base: str, oidc: OidcConfigSpec) -> str:
    """The config name a make-before-break replacement gives ``oidc``: ``<base>-<digest>``.

    The digest covers the fields the field table says name the successor (every setting EKS
    stores, not the name), as canonical JSON with keys sorted, so the same settings always get the
    same name and any change gets another. A field left at the model's default is left out: a
    field added later with a default then changes no existing object's successor name (for the
    fields of old, all defaulting to ``None``, that is the "unset left out" of before, so their
    digests are unchanged). The base is shortened when needed to keep the name within EKS's 100
    characters; the result still starts with the base's first character, so it matches EKS's
    name pattern.
    """
    settings = {
        field.wire: field.of(oidc)
        for field in OIDC_FIELDS
        if field.names_successor and not field.is_default(oidc)
    }
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:DIGEST_LENGTH]
    room = MAX_CONFIG_NAME - DIGEST_LENGTH - 1
    return f"{base[:room]}-{digest}"


def is_successor_of(name: str, base: str) -> bool:
    """Whether ``name`` has the shape of a derived name of ``base`` (what deletion looks for)."""
    room = MAX_CONFIG_NAME - DIGEST_LENGTH - 1
    prefix, digest = f"{base[:room]}-", name[-DIGEST_LENGTH:]
    return (
        len(name) == len(prefix) + DIGEST_LENGTH
        and name.startswith(prefix)
        and all(c in "0123456789abcdef" for c in digest)
    )


def makes_before_breaking(obj: OidcIdentityProvider) -> bool:
    """Whether the object's policy asks for make-before-break (the default when unset)."""
    policy = obj.spec.replacement_policy
    return policy is None or policy is ReplacementPolicy.CREATE_BEFORE_DELETE


def matches(obj: OidcIdentityProvider, config: ObservedConfig) -> bool:
    """Whether ``config`` has exactly the settings ``spec.oidc`` asks for."""
    return not oidc_differences(obj.spec.oidc, config)


def delete_first_reason(
    obj: OidcIdentityProvider,
    old: ObservedConfig,
    cluster: ObservedCluster | None,
    names: tuple[str, ...],
) -> str | None:
    """Why EKS cannot hold the new config next to ``old`` on this cluster (``None``: it can).

    ``names`` are every config on the cluster (``old`` included). The combined size limit is
    not checked here: it needs every other config's settings, and EKS's refusal of the new
    association says it exactly (the replacement then falls back, see ``status.fallback``).
    """
    if normalised_issuer(obj.spec.oidc.issuer_url) == normalised_issuer(old.issuer_url):
        return (
            "the issuer URL is unchanged, and EKS refuses a second config with the same issuer "
            "on one cluster"
        )
    if cluster is None:
        return None
    limit = provider_limit(cluster.version)
    if limit is not None and limit < 2:
        return (
            f"cluster {cluster.name} runs Kubernetes {cluster.version}, which allows one identity "
            f"provider config (two from 1.{MANY_PROVIDERS_FROM})"
        )
    if limit is not None and len(names) >= limit:
        return (
            f"cluster {cluster.name} already has {len(names)} identity provider configs, the "
            f"most EKS allows ({limit})"
        )
    return None
