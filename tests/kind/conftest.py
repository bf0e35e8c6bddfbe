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
from typing import Any

import pytest

from eks_oidc_testing import controlplane
from eks_oidc_testing import kind as kind_harness
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.simulator import SimulatorClient
from tests.support.idp_objects import with_condition
from tests.support.kind_release import (
    AWS_CREDENTIALS,
    NAMESPACE,
    SIMULATOR_SERVICE_URL,
    Release,
    Upgrade,
    idp,
    published,
    values,
)
from tests.support.waiting import eventually


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
