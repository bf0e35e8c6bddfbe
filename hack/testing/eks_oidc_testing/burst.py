"""A burst of OidcIdentityProviders for the fleet benchmarks: object i (``fleet-{i}``, with an
issuer of its own, since EKS refuses one issuer twice on a cluster) on cluster ``fleet-c{i mod
C}``, created by several kubectl processes side by side.

The issuers are ``<issuers>-{i}``: given ``<base>/tenant`` with the base of
:func:`~.issuer.local_issuers`, real issuers the operator's pre-flight verifies, as a fleet
owner's would be (``<base>/late6``: ones that answer after 0.6 s). Without one they
are hosts that do not exist (``login-{i}.example.com``), and the pre-flight's lookups measure
the machine's resolver: where no DNS server answers, a burst of them waits out the resolver's
5-second timeout, and the pre-flight's own timeout with it."""

from __future__ import annotations

import json
import threading

from eks_oidc_testing.stack import Stack

APPLIERS = 8
"""kubectl processes applying the burst side by side (one kubectl creates objects one by one:
1,000 take it over a minute, longer than a whole queue of 60-second associations)."""


ROLE_ACCOUNT = "111122223333"
"""The account of the fleet's roles (the simulator's STS assumes any role of any account)."""


def role_arn(i: int, roles: int) -> str:
    """Object i's role when the fleet spreads over ``roles`` roles (i mod R)."""
    return f"arn:aws:iam::{ROLE_ACCOUNT}:role/fleet-role-{i % roles}"


def burst(
    stack: Stack,
    objects: int,
    clusters: int,
    issuers: str | None = None,
    roles: int = 0,
    regions: int = 1,
) -> None:
    """Create the N objects at once, in ``APPLIERS`` interleaved slices (object i on cluster
    i mod C, so every slice reaches every cluster; with ``roles``, as role i mod R; with
    ``regions``, cluster c in region c mod K)."""
    threads = [
        threading.Thread(
            target=stack.kubectl,
            args=("apply", "-f", "-"),
            kwargs={"stdin": manifests(objects, clusters, part, issuers, roles, regions)},
        )
        for part in range(APPLIERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def issuer_url(i: int, issuers: str | None) -> str:
    """Object i's issuer: one of the served ``issuers`` (a URL prefix), or a host that does not
    exist."""
    return f"{issuers}-{i}" if issuers else f"https://login-{i}.example.com"


REGIONS = (
    "us-west-2",
    "us-east-1",
    "us-east-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
)
"""The regions a fleet spreads its clusters over (the simulator answers every region alike;
AWS holds 100 clusters per account and region by default, so a fleet of 1,000 spans ten)."""


def manifests(
    objects: int,
    clusters: int,
    part: int,
    issuers: str | None = None,
    roles: int = 0,
    regions: int = 1,
) -> str:
    items = [
        {
            "apiVersion": "eksoidc.io/v1alpha1",
            "kind": "OidcIdentityProvider",
            "metadata": {"name": f"fleet-{i}", "namespace": "default"},
            "spec": {
                "clusterName": f"fleet-c{i % clusters}",
                "oidc": {"issuerUrl": issuer_url(i, issuers), "clientId": "k"},
                **({"roleArn": role_arn(i, roles)} if roles else {}),
                **({"region": REGIONS[i % clusters % regions]} if regions > 1 else {}),
            },
        }
        for i in range(part, objects, APPLIERS)
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
