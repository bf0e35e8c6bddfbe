"""Uninstalling loses nothing: no uninstall path disassociates a config.

- The plain manifests keep the CRD apart: ``kubectl delete -k`` of the operator's manifests
  leaves the CRD, the objects and every EKS config.
- Deleting the CRD itself (which deletes every object with it) makes a running operator let go
  of the configs, as ``deletionPolicy: Retain`` would, with a Warning event saying why; and an
  operator that cannot read its CRD holds deletions rather than guess.

A real kube-apiserver (whose apiextensions part deletes a CRD's objects), the EKS simulator over
HTTP, and the module's operator process under the chart's RBAC (tests/e2e/conftest.py). The CRD
deletion test restores the CRD after itself, for the tests that come after it on this control
plane.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest
import yaml

from eks_oidc_operator import constants
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.paths import REPO
from eks_oidc_testing.simulator import SimulatorHandle
from tests.support.idp_objects import get_object, manifest, new_name, with_condition
from tests.support.simulator_calls import calls
from tests.support.waiting import eventually, wait_for

pytestmark = pytest.mark.e2e

DEPLOY = REPO / "deploy"
CRD_FILE = REPO / "crds" / f"{constants.CRD_NAME}.yaml"


def _ready_objects(
    cluster: Cluster, namespace: str, simulator: SimulatorHandle, operator: OperatorProcess, n: int
) -> list[tuple[str, str]]:
    objects = []
    for _ in range(n):
        eks_cluster = unique_name("c")
        simulator.create_cluster(eks_cluster, "1.33")
        name = new_name()
        assert cluster.apply(manifest(name, namespace, eks_cluster)).returncode == 0
        objects.append((name, eks_cluster))
    for name, _ in objects:
        wait_for(
            "Ready", functools.partial(with_condition, cluster, namespace, name, "Ready"), operator
        )
    return objects


def _active(simulator: SimulatorHandle, objects: list[tuple[str, str]]) -> list[str]:
    """The objects whose config is ACTIVE in EKS."""
    client = simulator.boto3_client()
    found = []
    for name, eks_cluster in objects:
        configs = client.list_identity_provider_configs(clusterName=eks_cluster)
        if {"type": "oidc", "name": name} in configs["identityProviderConfigs"]:
            config = client.describe_identity_provider_config(
                clusterName=eks_cluster, identityProviderConfig={"type": "oidc", "name": name}
            )
            if config["identityProviderConfig"]["oidc"]["status"] == "ACTIVE":
                found.append(name)
    return found


def _disassociations(simulator: SimulatorHandle, objects: list[tuple[str, str]]) -> int:
    return sum(calls(simulator, "DisassociateIdentityProviderConfig", c) for _, c in objects)


def test_kubectl_delete_k_deploy_keeps_the_crd_the_objects_and_the_configs(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
    tmp_path: Path,
) -> None:
    # deploy/ as a user applies it, under names of this test's own (an overlay: a namespace and
    # a suffix), so that deleting it removes nothing another test runs on.
    suffix = unique_name("d")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(DEPLOY, overlay)],
                "namespace": suffix,
                "nameSuffix": f"-{suffix}",
                "patches": [  # the namespace object itself, renamed too
                    {
                        "target": {"kind": "Namespace"},
                        "patch": json.dumps(
                            [{"op": "replace", "path": "/metadata/name", "value": suffix}]
                        ),
                    }
                ],
            }
        )
    )
    rendered = cluster.kubectl("kustomize", str(overlay)).stdout
    kinds = {d["kind"] for d in yaml.safe_load_all(rendered) if d}
    assert "CustomResourceDefinition" not in kinds
    assert {"Deployment", "ClusterRole", "Namespace"} <= kinds
    cluster.kubectl("apply", "--server-side", "-k", str(DEPLOY / "crds"))
    cluster.kubectl("apply", "-k", str(overlay))
    objects = _ready_objects(cluster, namespace, simulator, operator, 2)
    crd_uid = cluster.get_json("crd", constants.CRD_NAME)["metadata"]["uid"]

    cluster.kubectl("delete", "-k", str(overlay), "--wait=false")

    eventually(
        "the overlay's ClusterRole gone",
        lambda: (
            cluster.kubectl(
                "get", "clusterrole", f"eks-oidc-operator-{suffix}", check=False
            ).returncode
            != 0
        ),
    )
    assert cluster.get_json("crd", constants.CRD_NAME)["metadata"]["uid"] == crd_uid
    for name, _ in objects:
        body = get_object(cluster, namespace, name)
        assert body is not None
        assert body["metadata"].get("deletionTimestamp") is None
    assert sorted(_active(simulator, objects)) == sorted(name for name, _ in objects)
    assert _disassociations(simulator, objects) == 0


def test_deleting_the_crd_lets_go_of_every_config_with_a_warning(
    cluster: Cluster,
    namespace: str,
    operator: OperatorProcess,
    simulator: SimulatorHandle,
) -> None:
    objects = _ready_objects(cluster, namespace, simulator, operator, 3)
    # Objects other modules left behind on this control plane, finalizer and all, with no
    # operator left to release them, would hold the CRD's deletion forever: let them go.
    leftovers = cluster.get_json("oidcidp", "-A")["items"]
    for item in leftovers:
        meta = item["metadata"]
        if meta["namespace"] != namespace and meta.get("finalizers"):
            cluster.kubectl(
                "patch",
                f"oidcidp/{meta['name']}",
                "-n",
                meta["namespace"],
                "--type=merge",
                "-p",
                json.dumps({"metadata": {"finalizers": None}}),
                check=False,
            )
    try:
        cluster.kubectl("delete", "crd", constants.CRD_NAME, "--wait=false")
        eventually(
            "the CRD and its objects gone",
            lambda: cluster.kubectl("get", "crd", constants.CRD_NAME, check=False).returncode != 0,
            timeout=60,
            hint=operator.log_tail,
        )
        events = cluster.get_json(
            "events", "-n", namespace, "--field-selector", "reason=CrdDeleted"
        )["items"]
        released = {e["involvedObject"]["name"] for e in events if e["type"] == "Warning"}
        assert released == {name for name, _ in objects}
        assert "stays associated" in events[0]["message"]
        assert _disassociations(simulator, objects) == 0
        assert sorted(_active(simulator, objects)) == sorted(name for name, _ in objects)
    finally:
        cluster.kubectl("apply", "--server-side", "-f", str(CRD_FILE))
        cluster.kubectl(
            "wait", "--for=condition=Established", f"crd/{constants.CRD_NAME}", "--timeout=30s"
        )
