"""The kind tier's release: its names, the chart values it is installed with, and
:class:`Release` to drive it with helm. The fixtures that install it (the previous release, then
``helm upgrade`` to this one) are in tests/kind/conftest.py.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing import kind as kind_harness
from eks_oidc_testing.kube import Cluster

NAMESPACE = "eks-oidc"
RELEASE = "eks-oidc-operator"
"""Also the Deployment's and the Lease's name (the chart names them after a release that
contains the chart's name)."""
SIMULATOR_SERVICE_URL = "http://eks-simulator.eks-simulator.svc:4566"
AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDKINDTIER", "AWS_SECRET_ACCESS_KEY": "kind-tier-secret"}


def idp(name: str, namespace: str, eks_cluster: str) -> dict[str, Any]:
    """An OidcIdentityProvider on ``eks_cluster`` (its issuer is never fetched: the tier skips
    the pre-flight)."""
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "clusterName": eks_cluster,
            "oidc": {"issuerUrl": f"https://login.example.com/{name}", "clientId": "kubernetes"},
        },
    }


def published(name: str) -> dict[str, str]:
    """What was published to the local registry (``release`` or ``previous``); a failure,
    never a skip, when nothing was."""
    try:
        return kind_harness.published(name)
    except kind_harness.KindUnavailableError as error:
        pytest.fail(str(error))


def values(**overrides: Any) -> dict[str, Any]:
    """The chart values of the tier: the image loaded into kind, two replicas, EKS at the
    simulator's Service. The issuer pre-flight is off: nothing outside this machine is reachable
    from the cluster, so there is no issuer to fetch. ``overrides`` replace top-level keys; a
    dict given for a dict (``settings={...}``) is merged into it."""
    release = published("release")
    base: dict[str, Any] = {
        "replicaCount": 2,
        # The chart's own repository, behind the registry the release went to, by digest.
        "global": {"imageRegistry": release["REGISTRY"]},
        "image": {"digest": release["IMAGE_DIGEST"], "pullPolicy": "IfNotPresent"},
        "operator": {"region": "us-west-2", "eksEndpointUrl": SIMULATOR_SERVICE_URL},
        "settings": {
            "issuerCheck": "Skip",
            "pollInitialSeconds": 1,
            "pollMaxSeconds": 3,
            "deletionBudget": 1000,  # the tier deletes many objects; the guard has own tests
        },
        # The shipped policy permits nothing: the tier's objects use the operator's identity.
        "tenancy": {
            "rules": [{"name": "kind-tier", "namespaces": ["*"], "operatorIdentity": True}]
        },
        "env": [
            {
                "name": key,
                "valueFrom": {"secretKeyRef": {"name": "aws-credentials", "key": key}},
            }
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        ],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


@dataclass(frozen=True)
class Upgrade:
    """What the release fixture did on its way from the previous release to this one."""

    previous: str
    """The previous release's git ref (hack/release/previous)."""
    namespace: str
    ready: list[tuple[str, str]]
    """Objects Ready before the upgrade, as (name, EKS cluster)."""
    in_flight: tuple[str, str]
    """The object whose association EKS was still carrying out when the upgrade began."""
    pods_before: set[str]
    crd_generation_before: int


@dataclass(frozen=True)
class Release:
    """The chart's release in the kind cluster, and helm to drive it."""

    cluster: Cluster
    helm: Path
    workdir: Path
    upgrade: Upgrade | None = field(default=None, compare=False)

    def helm_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm), f"--kubeconfig={self.cluster.admin_kubeconfig}", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def install_or_upgrade(
        self,
        command: str,
        chart_values: dict[str, Any],
        *,
        chart: str | None = None,
        name: str = RELEASE,
        namespace: str = NAMESPACE,
    ) -> None:
        """``helm install|upgrade`` with these values (``--wait``: every pod Ready), of the
        chart published to the local registry unless another ``chart`` (a directory) is named."""
        path = self.workdir / f"values-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(chart_values))  # JSON is YAML
        if chart is None:
            release = published("release")
            source = [release["CHART"], "--version", release["VERSION"], "--plain-http"]
        else:
            source = [chart]
        result = self.helm_run(
            command, name, *source, "-n", namespace, "-f", str(path), "--wait", "--timeout=240s"
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def pods(self) -> list[dict[str, Any]]:
        """The operator's pods (not terminating)."""
        items: list[dict[str, Any]] = self.cluster.get_json(
            "pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/instance={RELEASE}"
        )["items"]
        return [pod for pod in items if not pod["metadata"].get("deletionTimestamp")]

    def ready_pods(self) -> list[str]:
        """Names of the operator's pods that are Running and Ready."""
        return [
            pod["metadata"]["name"]
            for pod in self.pods()
            if pod["status"].get("phase") == "Running"
            and any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in pod["status"].get("conditions", [])
            )
        ]

    def leader(self) -> str | None:
        """The pod that holds the leader Lease (its identity is ``<pod>_<random>``)."""
        result = self.cluster.kubectl(
            "get", "lease", RELEASE, "-n", NAMESPACE, "-o", "json", check=False
        )
        if result.returncode != 0:
            return None
        holder = json.loads(result.stdout)["spec"].get("holderIdentity") or ""
        return holder.rsplit("_", 1)[0] or None

    def logs(self) -> str:
        """Every operator pod's log, for a failure message."""
        return self.cluster.kubectl(
            "logs",
            "-n",
            NAMESPACE,
            "-l",
            f"app.kubernetes.io/instance={RELEASE}",
            "--tail=40",
            "--prefix",
            check=False,
        ).stdout
