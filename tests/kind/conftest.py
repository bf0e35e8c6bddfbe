"""The kind tier's product: the EKS simulator as a pod and the operator installed by the chart.

What a user installs, as a user installs it and upgrades to it: the release ``make test``
published to the local registry (hack/release/local.sh: the image pushed, the chart pushed as
an OCI artifact, both signed), pulled from that registry by the kind node (no ``kind load``).
The release is reached the way users reach it: the previous release (hack/release/previous) is
installed first, from its own chart and image, with objects Ready and one association in flight,
and ``helm upgrade`` takes it to this one (what it did is kept in :class:`Upgrade` for the test
that checks it). Two replicas, in a namespace that enforces the ``restricted`` Pod Security
Standard; AWS credentials from a Secret, as a cluster without IRSA gives them; EKS at the
simulator's Service URL. Nothing tells the operator it is in a test.
"""

from __future__ import annotations

import functools
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing import controlplane
from eks_oidc_testing import kind as kind_harness
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.simulator import SimulatorClient
from tests.e2e.conftest import eventually, with_condition

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
        *(f"--from-literal={key}={value}" for key, value in AWS_CREDENTIALS.items()),
    )
    helm = controlplane.bin_dir() / "helm"
    workdir = tmp_path_factory.mktemp("helm")
    release = Release(cluster, helm, workdir)
    upgrade = _from_the_previous_release(release, in_cluster_simulator)
    return Release(cluster, helm, workdir, upgrade)


def _previous_values() -> dict[str, Any]:
    """The previous chart's values (its schema knows no tenancy, env or leader election)."""
    previous = published("previous")
    repository, _, tag = previous["IMAGE"].rpartition(":")
    return {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "operator": {
            "region": "us-west-2",
            "eksEndpointUrl": SIMULATOR_SERVICE_URL,
            "extraEnv": AWS_CREDENTIALS,
        },
        "settings": {"pollInitialSeconds": 1, "pollMaxSeconds": 3},
    }


def _from_the_previous_release(release: Release, simulator: SimulatorClient) -> Upgrade:
    """Install the previous release, get objects Ready and one association in flight, then
    ``helm upgrade`` to this release, as the CHANGELOG's upgrade notes say (tenancy rules given).
    The test that checks the outcome is the first of test_pods.py."""
    cluster = release.cluster
    previous = published("previous")
    release.install_or_upgrade("install", _previous_values(), chart=previous["CHART"])
    namespace = unique_name("upgrade")
    cluster.kubectl("create", "namespace", namespace)

    def made(n: int) -> list[tuple[str, str]]:
        objects = []
        for _ in range(n):
            name, eks_cluster = unique_name("idp"), unique_name("c")
            simulator.create_cluster(eks_cluster, "1.33")
            assert cluster.apply(idp(name, namespace, eks_cluster)).returncode == 0
            objects.append((name, eks_cluster))
        return objects

    ready = made(2)
    for name, _ in ready:
        eventually(
            f"{name} Ready under the previous release",
            functools.partial(with_condition, cluster, namespace, name, "Ready"),
            timeout=120,
            hint=release.logs,
        )
    simulator.configure(associateSeconds=30)
    try:
        (in_flight,) = made(1)
        eventually(
            "the previous release to record the association EKS accepted",
            lambda: (
                cluster.get_json(f"oidcidp/{in_flight[0]}", "-n", namespace)
                .get("status", {})
                .get("update")
            ),
            timeout=90,
            hint=release.logs,
        )
        pods_before = {pod["metadata"]["name"] for pod in release.pods()}
        crd = cluster.get_json("crd", "oidcidentityproviders.eksoidc.io")
        release.install_or_upgrade("upgrade", values())
    finally:
        simulator.configure(associateSeconds=3)  # hack/kind/simulator.yaml's
    return Upgrade(
        previous=previous["REF"],
        namespace=namespace,
        ready=ready,
        in_flight=in_flight,
        pods_before=pods_before,
        crd_generation_before=int(crd["metadata"]["generation"]),
    )
