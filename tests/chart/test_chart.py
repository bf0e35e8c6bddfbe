"""The Helm chart: lint-clean, values validated by its schema, secure defaults, every operator
setting exposed, the CRD in sync, and (e2e) accepted by a real API server and installable."""

from __future__ import annotations

import json
import re
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
        ({"replicaCount": 2}, "/replicaCount"),  # one writer: kopf runs standalone
        ({"replicaCount": "1"}, "/replicaCount"),
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


def test_helm_lint_refuses_bad_values_too(helm: Path) -> None:
    # `helm lint` is what chart CI runs on user values files; it must apply the schema as well.
    result = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART), "--set", "replicaCount=2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "/replicaCount" in result.stdout + result.stderr


def test_replica_count_zero_pauses_the_operator(helm: Path) -> None:
    deployment = _docs(helm, "--set", "replicaCount=0")["Deployment/eks-oidc-operator"]
    assert deployment["spec"]["replicas"] == 0


def _keys_with_line_numbers(text: str) -> list[tuple[int, str]]:
    """Every block-style key of values.yaml, with its line index (flow mappings are values)."""
    keys = []
    for index, line in enumerate(text.splitlines()):
        match = re.match(r"^(\s*)([A-Za-z][\w.-]*):(\s|$)", line)
        if match:
            keys.append((index, match.group(2)))
    return keys


def test_every_value_has_a_helm_docs_comment() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = []
    for index, key in _keys_with_line_numbers("\n".join(lines)):
        # The comment block right above the key must contain a `# --` line (helm-docs).
        block = []
        above = index - 1
        while above >= 0 and lines[above].lstrip().startswith("#"):
            block.append(lines[above].lstrip())
            above -= 1
        if not any(comment.startswith("# --") for comment in block):
            undocumented.append(key)
    assert len(_keys_with_line_numbers("\n".join(lines))) > 30  # the parser still sees keys
    assert undocumented == []


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


@pytest.mark.e2e
def test_the_operator_pod_is_admitted_under_the_restricted_pod_security_standard(
    helm: Path, cluster: Cluster
) -> None:
    # No controller-manager runs locally, so the Deployment never makes a pod: build the pod
    # from its template and let the API server's PodSecurity admission judge it, enforcing
    # "restricted" as a hardened management cluster would.
    namespace = unique_name("psa")
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    template = _docs(helm)["Deployment/eks-oidc-operator"]["spec"]["template"]

    def dry_run(spec: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "operator", "namespace": namespace, **template["metadata"]},
            "spec": spec,
        }
        return cluster.apply(pod, "--dry-run=server")

    admitted = dry_run(template["spec"])
    assert admitted.returncode == 0, admitted.stderr
    # The control: without the container's securityContext the same pod is refused, so the
    # admission check above was really enforced.
    weakened = json.loads(json.dumps(template["spec"]))
    del weakened["containers"][0]["securityContext"]
    refused = dry_run(weakened)
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted' in refused.stderr
