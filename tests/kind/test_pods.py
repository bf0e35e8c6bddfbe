"""The operator as users run it: pods of the image, installed by the chart, on a kind cluster.

The release got here by ``helm upgrade`` from the previous one (tests/kind/conftest.py) with
objects Ready and one association in flight: it made no second association and no
disassociation, upgraded the CRD, and runs the image pulled from the registry by digest. Two
replicas elect one leader through the chart's probes and Lease; objects applied with kubectl
reach Ready through the simulator's Service; a leader deleted by force hands over with no second
association; the PodDisruptionBudget holds against evicting both pods; a ``helm upgrade`` rolls
the pods while an association is in flight and it still completes exactly once; ``helm
uninstall`` keeps the CRD, the objects and every EKS config. The tests share one release and run
in file order (the uninstall is last).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
import yaml

from eks_oidc_operator import constants
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.paths import REPO
from eks_oidc_testing.simulator import SimulatorClient
from tests.support.idp_objects import with_condition
from tests.support.kind_release import NAMESPACE, RELEASE, Release, idp, published, values
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kind, pytest.mark.pods]

ASSOCIATE = "AssociateIdentityProviderConfig"


def _ready(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    return with_condition(cluster, namespace, name, "Ready")


def _associations(simulator: SimulatorClient, eks_cluster: str) -> int:
    """EKS updates of type Associate on the cluster: EKS's own history, not the calls made."""
    eks = simulator.boto3_client()
    history = eks.list_updates(name=eks_cluster)["updateIds"]
    kinds = [
        str(eks.describe_update(name=eks_cluster, updateId=u)["update"]["type"]) for u in history
    ]
    return kinds.count(ASSOCIATE)


def _one_association_call(simulator: SimulatorClient, eks_cluster: str) -> None:
    """Every Associate call on the cluster carried one clientRequestToken: a second call, if
    any (a new leader that found no update in status), was EKS's replay, not a new request."""
    associates = [
        call for call in simulator.requests(ASSOCIATE) if call.get("cluster") == eks_cluster
    ]
    assert associates
    assert len({call["client_request_token"] for call in associates}) == 1, associates


def _configs(simulator: SimulatorClient, eks_cluster: str) -> list[str]:
    listed = simulator.boto3_client().list_identity_provider_configs(clusterName=eks_cluster)
    return sorted(c["name"] for c in listed["identityProviderConfigs"])


@pytest.fixture
def eks_cluster(in_cluster_simulator: SimulatorClient) -> str:
    name = unique_name("c")
    in_cluster_simulator.create_cluster(name, "1.33")
    return name


@contextmanager
def _associations_take(simulator: SimulatorClient, seconds: float) -> Iterator[None]:
    """EKS associations take ``seconds`` inside the block (long enough to act mid-flight)."""
    simulator.configure(associateSeconds=seconds)
    try:
        yield
    finally:
        simulator.configure(associateSeconds=3)  # hack/kind/simulator.yaml's


def _in_flight(simulator: SimulatorClient, eks_cluster: str, release: Release) -> None:
    """Wait until EKS has accepted an association on the cluster (it is now in flight)."""
    eventually(
        "EKS to accept the association",
        lambda: _associations(simulator, eks_cluster) >= 1,
        timeout=90,
        hint=release.logs,
    )


def test_the_upgrade_from_the_previous_release_lost_nothing(
    release: Release, in_cluster_simulator: SimulatorClient
) -> None:
    upgrade = release.upgrade
    assert upgrade is not None
    cluster, simulator = release.cluster, in_cluster_simulator
    objects = [*upgrade.ready, upgrade.in_flight]
    for name, _ in objects:  # the one in flight too, finished by the new pods
        eventually(
            f"{name} Ready after the upgrade",
            partial(_ready, cluster, upgrade.namespace, name),
            hint=release.logs,
        )
    for name, eks_cluster in objects:
        assert _associations(simulator, eks_cluster) == 1, name  # EKS's own update history
        _one_association_call(simulator, eks_cluster)
        assert _configs(simulator, eks_cluster) == [name]
        disassociations = [
            call
            for call in simulator.requests("DisassociateIdentityProviderConfig")
            if call.get("cluster") == eks_cluster
        ]
        assert disassociations == [], name
    # The CRD is this release's (the hook Job applied it over the previous release's).
    crd = cluster.get_json("crd", constants.CRD_NAME)
    assert int(crd["metadata"]["generation"]) > upgrade.crd_generation_before
    shipped = yaml.safe_load((REPO / "crds" / f"{constants.CRD_NAME}.yaml").read_text())
    served = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    wanted = shipped["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert sorted(served["properties"]) == sorted(wanted["properties"])
    # New pods, running the release's image as pulled from the registry, by digest.
    pods = release.pods()
    assert upgrade.pods_before.isdisjoint(pod["metadata"]["name"] for pod in pods)
    digest = published("release")["IMAGE_DIGEST"]
    registry = published("release")["REGISTRY"]
    for pod in pods:
        (container,) = pod["spec"]["containers"]
        assert container["image"] == f"{registry}/eks-oidc-operator/eks-oidc-operator@{digest}"
        (status,) = pod["status"]["containerStatuses"]
        # What ran: that digest, as the node pulled it from the registry (nothing is loaded).
        assert status["imageID"] == container["image"], status["imageID"]


def test_two_replicas_ready_through_the_probes_with_exactly_one_leader(release: Release) -> None:
    cluster = release.cluster
    labels = cluster.get_json("namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    eventually("two Ready operator pods", lambda: len(release.ready_pods()) == 2)
    pods = release.ready_pods()
    leader = eventually("a leader", release.leader)
    assert leader in pods
    # Exactly one: each pod's own metric says whether it leads. The image has no shell tools,
    # so its Python asks its metrics port.
    leading = []
    for pod in pods:
        scraped = cluster.kubectl(
            "exec",
            "-n",
            NAMESPACE,
            pod,
            "--",
            "python3",
            "-c",
            "import urllib.request;"
            "print(urllib.request.urlopen('http://127.0.0.1:9090/metrics').read().decode())",
        ).stdout
        line = next(x for x in scraped.splitlines() if x.startswith("eks_oidc_leader "))
        leading.append((pod, float(line.split()[1])))
    assert sorted(value for _, value in leading) == [0.0, 1.0], leading
    assert dict(leading)[leader] == 1.0
    # The restricted profile admitted the pods as the chart renders them.
    spec = cluster.get_json("deployment", RELEASE, "-n", NAMESPACE)["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_objects_applied_with_kubectl_reach_ready(
    release: Release,
    in_cluster_simulator: SimulatorClient,
    eks_cluster: str,
    make_namespace: Any,
) -> None:
    namespace = make_namespace()
    names = [unique_name("idp") for _ in range(3)]
    for name in names:
        applied = release.cluster.apply(idp(name, namespace, eks_cluster))
        assert applied.returncode == 0, applied.stderr
    for name in names:
        eventually(
            f"{name} Ready",
            partial(_ready, release.cluster, namespace, name),
            hint=release.logs,
        )
    assert _configs(in_cluster_simulator, eks_cluster) == sorted(names)
    assert _associations(in_cluster_simulator, eks_cluster) == len(names)


def test_leader_pod_deleted_by_force_hands_over_with_no_second_association(
    release: Release,
    in_cluster_simulator: SimulatorClient,
    eks_cluster: str,
    make_namespace: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cluster = release.cluster
    namespace = make_namespace()
    with _associations_take(in_cluster_simulator, 20):
        name = unique_name("idp")
        assert cluster.apply(idp(name, namespace, eks_cluster)).returncode == 0
        _in_flight(in_cluster_simulator, eks_cluster, release)
        leader = release.leader()
        assert leader is not None
        deleted_at = time.monotonic()
        cluster.kubectl("delete", "pod", leader, "-n", NAMESPACE, "--grace-period=0", "--force")
        successor = eventually(
            "another pod to take the Lease",
            lambda: (holder := release.leader()) not in (None, leader) and holder,
            timeout=90,
            hint=release.logs,
        )
        failover = time.monotonic() - deleted_at
        # The successor is whichever candidate asks first once the Lease is free: the standby,
        # or the replacement the Deployment starts at once. A leader that was still able to
        # stop cleanly released the Lease (about 2 s); one killed outright leaves it to expire
        # (leaseDurationSeconds, 15 s).
        with capsys.disabled():
            print(f"\nfailover: {failover:.1f} s from the forced delete of {leader} to {successor}")
        eventually(f"{name} Ready", lambda: _ready(cluster, namespace, name), hint=release.logs)
    assert _associations(in_cluster_simulator, eks_cluster) == 1
    _one_association_call(in_cluster_simulator, eks_cluster)
    assert _configs(in_cluster_simulator, eks_cluster) == [name]
    eventually("two Ready operator pods again", lambda: len(release.ready_pods()) == 2)


def _evict(cluster: Cluster, pod: str) -> int:
    """POST an Eviction for the pod; the HTTP status the API server answered."""
    body = json.dumps(
        {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod, "namespace": NAMESPACE},
        }
    )
    result = cluster.kubectl(
        "create",
        "--raw",
        f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}/eviction",
        "-f",
        "-",
        stdin=body,
        check=False,
    )
    if result.returncode == 0:
        return 201
    # kubectl prints the API's status: "... (post pods eviction) ..." plus the reason; a PDB
    # refusal is 429 TooManyRequests.
    return 429 if "TooManyRequests" in result.stderr or "disruption budget" in result.stderr else 0


def test_evicting_both_pods_respects_the_disruption_budget(release: Release) -> None:
    cluster = release.cluster
    pdb = cluster.get_json("poddisruptionbudget", RELEASE, "-n", NAMESPACE)
    assert pdb["spec"]["minAvailable"] == 1
    pods = eventually(
        "two Ready operator pods", lambda: (p := release.ready_pods()) and len(p) == 2 and p
    )
    eventually(
        "the budget to allow one disruption",
        lambda: (
            cluster.get_json("poddisruptionbudget", RELEASE, "-n", NAMESPACE)["status"].get(
                "disruptionsAllowed"
            )
            == 1
        ),
    )
    first, second = _evict(cluster, pods[0]), _evict(cluster, pods[1])
    assert first == 201
    assert second == 429
    still_there = {pod["metadata"]["name"] for pod in release.pods()}
    assert pods[1] in still_there
    eventually(
        "two Ready operator pods again", lambda: len(release.ready_pods()) == 2, hint=release.logs
    )


def test_helm_upgrade_rolls_the_pods_while_an_association_is_in_flight(
    release: Release,
    in_cluster_simulator: SimulatorClient,
    eks_cluster: str,
    make_namespace: Any,
) -> None:
    cluster = release.cluster
    namespace = make_namespace()
    before = set(release.ready_pods())
    with _associations_take(in_cluster_simulator, 25):
        name = unique_name("idp")
        assert cluster.apply(idp(name, namespace, eks_cluster)).returncode == 0
        _in_flight(in_cluster_simulator, eks_cluster, release)
        assert _ready(cluster, namespace, name) is None  # still in flight
        # A changed value: the pods' environment changes, so the Deployment rolls them.
        release.install_or_upgrade("upgrade", values(settings={"resyncSeconds": 900}))
        after = set(release.ready_pods())
        assert before.isdisjoint(after), (before, after)
        eventually(f"{name} Ready", lambda: _ready(cluster, namespace, name), hint=release.logs)
    assert _associations(in_cluster_simulator, eks_cluster) == 1
    _one_association_call(in_cluster_simulator, eks_cluster)
    assert _configs(in_cluster_simulator, eks_cluster) == [name]
    env = cluster.get_json("deployment", RELEASE, "-n", NAMESPACE)["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    assert {"name": "EKS_OIDC_RESYNC_SECONDS", "value": "900"} in env


def test_helm_uninstall_keeps_the_crd_the_objects_and_every_eks_config(
    release: Release,
    in_cluster_simulator: SimulatorClient,
    eks_cluster: str,
    make_namespace: Any,
) -> None:
    cluster = release.cluster
    namespace = make_namespace()
    names = [unique_name("idp") for _ in range(2)]
    for name in names:
        assert cluster.apply(idp(name, namespace, eks_cluster)).returncode == 0
    for name in names:
        eventually(f"{name} Ready", partial(_ready, cluster, namespace, name), hint=release.logs)
    result = release.helm_run("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout=120s")
    assert result.returncode == 0, result.stderr
    eventually("the operator pods to go", lambda: release.pods() == [])
    # A few seconds for anything still running to act (nothing should: no operator is left,
    # and nothing deletes the objects, which keep their finalizers).
    time.sleep(5)
    assert cluster.kubectl("get", "crd", constants.CRD_NAME, check=False).returncode == 0
    for name in names:
        obj = cluster.get_json(f"oidcidp/{name}", "-n", namespace)
        assert obj["metadata"].get("deletionTimestamp") is None
        assert constants.FINALIZER in obj["metadata"]["finalizers"]
    assert _configs(in_cluster_simulator, eks_cluster) == sorted(names)
    for name in names:
        config = in_cluster_simulator.boto3_client().describe_identity_provider_config(
            clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
        )
        assert config["identityProviderConfig"]["oidc"]["status"] == "ACTIVE"
    # The objects are the user's to keep: a later install adopts them (not tested here); the
    # test namespace's teardown deletes them with no operator, so drop the finalizers first.
    for name in names:
        cluster.kubectl(
            "patch",
            f"oidcidp/{name}",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            json.dumps({"metadata": {"finalizers": None}}),
        )
