"""The kind tier's product: the EKS simulator as a pod and the operator installed by the chart.

What a user installs, as a user installs it: the image built by ``make image``, loaded into the
kind cluster; ``helm install`` of the chart with two replicas into a namespace that enforces the
``restricted`` Pod Security Standard; AWS credentials from a Secret, as a cluster without IRSA
gives them; EKS at the simulator's Service URL. Nothing tells the operator it is in a test.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_testing import controlplane
from eks_oidc_testing import kind as kind_harness
from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.paths import CHART
from eks_oidc_testing.simulator import SimulatorClient
from tests.e2e.conftest import eventually

NAMESPACE = "eks-oidc"
RELEASE = "eks-oidc-operator"
"""Also the Deployment's and the Lease's name (the chart names them after a release that
contains the chart's name)."""
SIMULATOR_SERVICE_URL = "http://eks-simulator.eks-simulator.svc:4566"


def values(**overrides: Any) -> dict[str, Any]:
    """The chart values of the tier: the image loaded into kind, two replicas, EKS at the
    simulator's Service. The issuer pre-flight is off: nothing outside this machine is reachable
    from the cluster, so there is no issuer to fetch. ``overrides`` replace top-level keys; a
    dict given for a dict (``settings={...}``) is merged into it."""
    name, _, tag = kind_harness.IMAGE.rpartition(":")
    base: dict[str, Any] = {
        "replicaCount": 2,
        "image": {"repository": name, "tag": tag, "pullPolicy": "Never"},
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
class Release:
    """The chart's release in the kind cluster, and helm to drive it."""

    cluster: Cluster
    helm: Path
    workdir: Path

    def helm_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm), f"--kubeconfig={self.cluster.admin_kubeconfig}", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def install_or_upgrade(self, command: str, chart_values: dict[str, Any]) -> None:
        """``helm install|upgrade`` with these values (``--wait``: every pod Ready)."""
        path = self.workdir / f"values-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(chart_values))  # JSON is YAML
        result = self.helm_run(
            command,
            RELEASE,
            str(CHART),
            "-n",
            NAMESPACE,
            "-f",
            str(path),
            "--wait",
            "--timeout=180s",
        )
        assert result.returncode == 0, result.stderr

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


@pytest.fixture(scope="session")
def in_cluster_simulator(cluster: Cluster) -> SimulatorClient:
    """The EKS simulator as a Deployment and Service, from the operator's image."""
    assert cluster.kind == "kind", "the pods tier runs on kind (pytest --cluster=kind)"
    cluster.kubectl("apply", "-f", "-", stdin=kind_harness.simulator_manifest())
    cluster.kubectl(
        "rollout",
        "status",
        "deployment/eks-simulator",
        "-n",
        "eks-simulator",
        "--timeout=180s",
        timeout=200,
    )
    client = SimulatorClient(url=kind_harness.simulator_url())
    eventually("the simulator's NodePort to answer", lambda: _answers(client), timeout=60)
    return client


def _answers(client: SimulatorClient) -> bool:
    try:
        client.now()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def release(
    cluster: Cluster,
    in_cluster_simulator: SimulatorClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Release:
    """The chart installed as a user would, into a namespace enforcing ``restricted``."""
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": NAMESPACE,
                "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
            },
        }
    )
    cluster.kubectl(
        "create",
        "secret",
        "generic",
        "aws-credentials",
        "-n",
        NAMESPACE,
        "--from-literal=AWS_ACCESS_KEY_ID=AKIDKINDTIER",
        "--from-literal=AWS_SECRET_ACCESS_KEY=kind-tier-secret",
    )
    release = Release(cluster, controlplane.bin_dir() / "helm", tmp_path_factory.mktemp("helm"))
    release.install_or_upgrade("install", values())
    return release
