"""The Helm chart: lint-clean, values validated by its schema, secure defaults, every operator
setting exposed, the CRD in sync, and (e2e) accepted by a real API server and installable."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import controlplane
from eks_oidc_operator.settings import OperatorSettings
from tests.support.kube import REPO, Cluster, unique_name

CHART = REPO / "charts" / "eks-oidc-operator"


@pytest.fixture(scope="module")
def helm() -> Path:
    return controlplane.bin_dir() / "helm"


def _template(helm: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), "template", "eks-oidc-operator", str(CHART), "--namespace", "ops", *args],
        capture_output=True,
        text=True,
        check=check,
    )


def _docs(helm: Path, *args: str) -> dict[str, dict[str, Any]]:
    rendered = _template(helm, *args).stdout
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(rendered) if d}


def test_helm_lint_is_clean(helm: Path) -> None:
    result = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_chart_crd_is_the_canonical_one() -> None:
    name = "oidcidentityproviders.eksoidc.io.yaml"
    assert (CHART / "crds" / name).read_text() == (REPO / "crds" / name).read_text(), (
        "charts/eks-oidc-operator/crds is stale: run `make crds`"
    )


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"bogus": 1}, "additional properties 'bogus' not allowed"),
        ({"livenessPort": "http"}, "/livenessPort"),
        ({"operator": {"region": "Europe"}}, "/operator/region"),
        ({"settings": {"jitter": 3}}, "/settings/jitter"),
        ({"settings": {"pollMaxSeconds": 0}}, "/settings/pollMaxSeconds"),
        ({"image": {"repository": "x", "pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
        ({"serviceAccount": {"name": "Not_A_Name"}}, "/serviceAccount/name"),
    ],
)
def test_bad_values_are_refused_by_the_schema(
    helm: Path, values: dict[str, Any], complaint: str, tmp_path: Path
) -> None:
    path = tmp_path / "values.json"
    path.write_text(json.dumps(values))
    result = _template(helm, "-f", str(path), check=False)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_every_operator_setting_is_a_chart_value(helm: Path, tmp_path: Path) -> None:
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())["settings"]
    path = tmp_path / "values.json"
    path.write_text(json.dumps({"settings": dict.fromkeys(chart_values, 1)}))
    deployment = _docs(helm, "-f", str(path))["Deployment/eks-oidc-operator"]
    env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    knobs = {f"EKS_OIDC_{name.upper()}" for name in OperatorSettings.model_fields}
    # The region is operator.region (AWS_REGION); ports are top-level values.
    assert knobs - env == {"EKS_OIDC_DEFAULT_REGION"}
    assert env - knobs <= {"AWS_REGION", "AWS_ENDPOINT_URL_EKS"}


def test_the_deployment_is_a_single_restricted_writer(helm: Path) -> None:
    deployment = _docs(helm)["Deployment/eks-oidc-operator"]
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["containers"][0]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    assert container["args"] == ["run", "--all-namespaces"]


def test_watched_namespaces_region_and_endpoint_become_arguments_and_env(
    helm: Path, tmp_path: Path
) -> None:
    path = tmp_path / "values.json"
    path.write_text(
        json.dumps(
            {
                "operator": {
                    "allNamespaces": False,
                    "watchNamespaces": ["a", "b"],
                    "region": "eu-west-1",
                    "eksEndpointUrl": "http://127.0.0.1:4566",
                }
            }
        )
    )
    container = _docs(helm, "-f", str(path))["Deployment/eks-oidc-operator"]["spec"]["template"][
        "spec"
    ]["containers"][0]
    assert container["args"] == ["run", "--namespace=a", "--namespace=b"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_ENDPOINT_URL_EKS"] == "http://127.0.0.1:4566"


def test_service_monitor_only_when_asked(helm: Path) -> None:
    assert "ServiceMonitor/eks-oidc-operator" not in _docs(helm)
    docs = _docs(helm, "--set", "metrics.serviceMonitor.enabled=true")
    assert docs["ServiceMonitor/eks-oidc-operator"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert "Service/eks-oidc-operator-metrics" in docs


@pytest.mark.e2e
def test_the_rendered_chart_passes_server_side_dry_run(helm: Path, cluster: Cluster) -> None:
    crd = REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml"
    cluster.kubectl("apply", "--server-side", "-f", str(crd))
    namespace = unique_name("dry")
    cluster.kubectl("create", "namespace", namespace)
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            "dry-run",
            str(CHART),
            "--namespace",
            namespace,
            "--set",
            f"fullnameOverride={namespace}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=rendered)
    assert "(server dry run)" in result.stdout
    assert "deployment.apps" in result.stdout


@pytest.mark.e2e
def test_helm_install_works_on_the_local_control_plane(helm: Path, cluster: Cluster) -> None:
    namespace = unique_name("helm")
    release = unique_name("rel")
    installed = subprocess.run(
        [
            str(helm),
            "install",
            release,
            str(CHART),
            "--namespace",
            namespace,
            "--create-namespace",
            f"--kubeconfig={cluster.admin_kubeconfig}",
            "--set",
            f"fullnameOverride={release}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    assert "OidcIdentityProvider" in installed.stdout  # NOTES.txt was rendered
    deployment = cluster.get_json("deployment", release, "-n", namespace)
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    role = cluster.get_json("clusterrole", release)
    assert any("oidcidentityproviders/status" in r["resources"] for r in role["rules"])
    cluster.get_json("crd", "oidcidentityproviders.eksoidc.io")
    subprocess.run(
        [
            str(helm),
            "uninstall",
            release,
            "--namespace",
            namespace,
            f"--kubeconfig={cluster.admin_kubeconfig}",
        ],
        check=True,
        capture_output=True,
    )
