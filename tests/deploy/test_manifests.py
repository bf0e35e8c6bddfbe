"""deploy/ is the chart rendered with its defaults, and `kubectl apply -k deploy/` works."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from eks_oidc_testing import controlplane
from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.paths import REPO

DEPLOY = REPO / "deploy"


def test_deploy_is_in_sync_with_the_chart(tmp_path: Path) -> None:
    env = {**os.environ, "HELM": str(controlplane.bin_dir() / "helm")}
    subprocess.run(
        ["bash", str(REPO / "hack" / "render-deploy.sh"), str(tmp_path)], env=env, check=True
    )
    for name in ("eks-oidc-operator.yaml", "crds/oidcidentityproviders.eksoidc.io.yaml"):
        assert (tmp_path / name).read_text() == (DEPLOY / name).read_text(), (
            f"deploy/{name} is stale: run `make crds deploy-manifests`"
        )


def test_the_plain_manifests_keep_the_crd_apart_from_the_operator() -> None:
    kinds = {
        d["kind"] for d in yaml.safe_load_all((DEPLOY / "eks-oidc-operator.yaml").read_text()) if d
    }
    # `kubectl delete -k deploy/` must not delete the CRD (and with it every object), and
    # kubectl runs no Helm hook: no CRD, no Job.
    assert not kinds & {"CustomResourceDefinition", "Job"}
    crds = yaml.safe_load((DEPLOY / "crds" / "oidcidentityproviders.eksoidc.io.yaml").read_text())
    canonical = yaml.safe_load(
        (REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml").read_text()
    )
    assert crds == canonical
    kustomized = yaml.safe_load((DEPLOY / "crds" / "kustomization.yaml").read_text())
    assert kustomized["resources"] == ["oidcidentityproviders.eksoidc.io.yaml"]
    assert {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
    } <= kinds


@pytest.mark.e2e
def test_kubectl_apply_k_deploy_passes_server_side_dry_run(cluster: Cluster) -> None:
    # Dry run cannot create a CRD: applied for real, as the README's first step does.
    cluster.kubectl("apply", "--server-side", "-k", str(DEPLOY / "crds"))
    result = cluster.kubectl("apply", "-k", str(DEPLOY), "--dry-run=server")
    assert "deployment.apps/eks-oidc-operator created (server dry run)" in result.stdout


@pytest.mark.e2e
def test_every_example_is_accepted_by_the_api_server(cluster: Cluster) -> None:
    crd = REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml"
    cluster.kubectl("apply", "--server-side", "-f", str(crd))
    cluster.kubectl("wait", "--for=condition=Established", "crd/oidcidentityproviders.eksoidc.io")
    for path in sorted((DEPLOY / "examples").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            doc["metadata"]["namespace"] = "default"
            result = cluster.kubectl(
                "apply", "--dry-run=server", "-f", "-", stdin=json.dumps(doc), check=False
            )
            assert result.returncode == 0, f"{path.name}: {result.stderr}"
