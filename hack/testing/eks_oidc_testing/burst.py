"""A burst of OidcIdentityProviders for the fleet benchmarks: object i (``fleet-{i}``, with an
issuer of its own, since EKS refuses one issuer twice on a cluster) on cluster ``fleet-c{i mod
C}``, created by several kubectl processes side by side."""

from __future__ import annotations

import json
import threading

from eks_oidc_testing.stack import Stack

APPLIERS = 8
"""kubectl processes applying the burst side by side (one kubectl creates objects one by one:
1,000 take it over a minute, longer than a whole queue of 60-second associations)."""


def burst(stack: Stack, objects: int, clusters: int) -> None:
    """Create the N objects at once, in ``APPLIERS`` interleaved slices (object i on cluster
    i mod C, so every slice reaches every cluster)."""
    threads = [
        threading.Thread(
            target=stack.kubectl,
            args=("apply", "-f", "-"),
            kwargs={"stdin": manifests(objects, clusters, part)},
        )
        for part in range(APPLIERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def manifests(objects: int, clusters: int, part: int) -> str:
    items = [
        {
            "apiVersion": "eksoidc.io/v1alpha1",
            "kind": "OidcIdentityProvider",
            "metadata": {"name": f"fleet-{i}", "namespace": "default"},
            "spec": {
                "clusterName": f"fleet-c{i % clusters}",
                "oidc": {"issuerUrl": f"https://login-{i}.example.com", "clientId": "k"},
            },
        }
        for i in range(part, objects, APPLIERS)
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
