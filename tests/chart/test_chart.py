"""The Helm chart: lint-clean, values validated by its schema, secure defaults, every operator
setting exposed, the CRD in sync, and (e2e) accepted by a real API server and installable."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from eks_oidc_operator.settings import OperatorSettings
from eks_oidc_testing import controlplane
from eks_oidc_testing.kube import Cluster, operator_kubeconfig_via_token_request, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.paths import REPO
from eks_oidc_testing.simulator import running_simulator

APP_VERSION = yaml.safe_load((REPO / "charts/eks-oidc-operator/Chart.yaml").read_text())[
    "appVersion"
]
CHART = REPO / "charts" / "eks-oidc-operator"


@pytest.fixture(scope="module", params=["helm", "helm4"])
def helm(request: pytest.FixtureRequest) -> Path:
    """Every chart test runs with Helm 3 and with Helm 4 (both built by make controlplane)."""
    return controlplane.bin_dir() / str(request.param)


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


def _generated_is_current(script: str) -> None:
    """``hack/<script> --check`` passes: what it generates into the chart is committed."""
    check = subprocess.run(
        [sys.executable, str(REPO / "hack" / script), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout


def test_the_chart_crd_is_the_canonical_one_and_never_a_template(helm: Path) -> None:
    _generated_is_current("chart_crd.py")
    canonical = yaml.safe_load(
        (REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml").read_text()
    )
    shipped = yaml.safe_load((CHART / "crds" / "oidcidentityproviders.eksoidc.io.yaml").read_text())
    assert shipped == canonical
    # In crds/, Helm installs it when missing and never deletes it: no release owns it, so no
    # uninstall (nor a release's resource policy) can delete it and every object with it.
    assert not any(d["kind"] == "CustomResourceDefinition" for d in _docs(helm).values())


def test_the_crd_upgrade_hook_may_only_read_and_patch_that_crd(helm: Path) -> None:
    docs = _docs(helm)
    name = "eks-oidc-operator-crd-upgrade"
    job = docs[f"Job/{name}"]
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Job"):
        annotations = docs[f"{kind}/{name}"]["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
    # RBAC first, then the Job (hooks run in weight order).
    assert int(docs[f"ClusterRole/{name}"]["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0
    assert docs[f"ClusterRole/{name}"]["rules"] == [
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "resourceNames": [CRD_NAME],
            "verbs": ["get", "patch"],
        }
    ]
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"] == ["crd", "--apply"]
    operator = docs["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == operator["image"]  # the CRD of the code about to run
    assert container["securityContext"] == operator["securityContext"]
    assert pod["serviceAccountName"] == name
    assert f"Job/{name}" not in _docs(helm, "--set", "crds.upgrade=false")


def test_the_operator_may_read_its_crd_in_either_scope(helm: Path) -> None:
    for args in (
        (),
        ("--set", "operator.allNamespaces=false", "--set", "operator.watchNamespaces={a}"),
    ):
        docs = _docs(helm, *args)
        role = docs["ClusterRole/eks-oidc-operator-crd-reader"]
        assert role["rules"] == [
            {
                "apiGroups": ["apiextensions.k8s.io"],
                "resources": ["customresourcedefinitions"],
                "resourceNames": [CRD_NAME],
                "verbs": ["get"],
            }
        ]
        binding = docs["ClusterRoleBinding/eks-oidc-operator-crd-reader"]
        assert binding["subjects"][0]["name"] == "eks-oidc-operator"


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
        ({"operator": {"allNamespaces": False}}, "/operator/watchNamespaces"),
        # One writer: without leader election, replicas would both reconcile every object.
        ({"replicaCount": 2, "leaderElection": {"enabled": False}}, "/replicaCount"),
        ({"leaderElection": {"leaseDurationSeconds": 0}}, "/leaderElection/leaseDurationSeconds"),
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


OBJECT_RULES = [
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    {
        "apiGroups": ["eksoidc.io"],
        "resources": ["oidcidentityproviders"],
        "verbs": ["list", "watch", "patch"],
    },
    {
        "apiGroups": ["eksoidc.io"],
        "resources": ["oidcidentityproviders/status"],
        "verbs": ["patch"],
    },
]


def test_the_default_cluster_role_is_exactly_the_least_privilege_set(helm: Path) -> None:
    # The operator e2e tests prove these are enough; this pins that nothing more sneaks in.
    assert _docs(helm)["ClusterRole/eks-oidc-operator"]["rules"] == OBJECT_RULES
    # The namespaced grants: events in the release namespace (on the tenancy policy's
    # ConfigMap, when the policy is invalid) and the leader election's Lease (pinned below).
    docs = _docs(helm)
    namespaced = sorted(k for k in docs if k.startswith(("Role/", "RoleBinding/")))
    assert namespaced == [
        "Role/eks-oidc-operator-leader-election",
        "Role/eks-oidc-operator-tenancy-events",
        "RoleBinding/eks-oidc-operator-leader-election",
        "RoleBinding/eks-oidc-operator-tenancy-events",
    ]
    assert docs["Role/eks-oidc-operator-tenancy-events"]["rules"] == [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}
    ]


def test_a_namespaced_install_moves_the_object_rules_into_a_role_per_namespace(
    helm: Path,
) -> None:
    rendered = _template(
        helm, "--set", "operator.allNamespaces=false", "--set", "operator.watchNamespaces={a,b}"
    ).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    # Their own Roles, in the release namespace: the Lease, and events on the policy's ConfigMap.
    apart = ("eks-oidc-operator-leader-election", "eks-oidc-operator-tenancy-events")
    roles = {
        d["metadata"]["namespace"]: d["rules"]
        for d in docs
        if d["kind"] == "Role" and d["metadata"]["name"] not in apart
    }
    assert roles == {"a": OBJECT_RULES, "b": OBJECT_RULES}
    bindings = [
        d for d in docs if d["kind"] == "RoleBinding" and d["metadata"]["name"] not in apart
    ]
    assert {b["metadata"]["namespace"] for b in bindings} == {"a", "b"}
    assert all(b["subjects"][0]["namespace"] == "ops" for b in bindings)
    # Nothing cluster-wide (kopf's scanning is off with named namespaces) but reading the one
    # CRD by name, and the upgrade hook's own role, deleted once it ran.
    cluster_wide = {
        d["metadata"]["name"] for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")
    }
    assert cluster_wide == {"eks-oidc-operator-crd-reader", "eks-oidc-operator-crd-upgrade"}


def test_the_service_account_carries_the_irsa_annotation(helm: Path, tmp_path: Path) -> None:
    role = "arn:aws:iam::111122223333:role/eks-oidc-operator"
    path = tmp_path / "values.json"
    path.write_text(
        json.dumps({"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": role}}})
    )
    docs = _docs(helm, "-f", str(path))
    account = docs["ServiceAccount/eks-oidc-operator"]
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role}
    pod = docs["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "eks-oidc-operator"
    binding = docs["ClusterRoleBinding/eks-oidc-operator"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "eks-oidc-operator", "namespace": "ops"}
    ]


def test_an_existing_service_account_can_be_used(helm: Path) -> None:
    docs = _docs(helm, "--set", "serviceAccount.create=false", "--set", "serviceAccount.name=mine")
    # Only the upgrade hook's own, which exists while it runs.
    accounts = [key for key in docs if key.startswith("ServiceAccount/")]
    assert accounts == ["ServiceAccount/eks-oidc-operator-crd-upgrade"]
    pod = docs["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "mine"
    assert docs["ClusterRoleBinding/eks-oidc-operator"]["subjects"][0]["name"] == "mine"


def test_helm_lint_refuses_bad_values_too(helm: Path) -> None:
    # `helm lint` is what chart CI runs on user values files; it must apply the schema as well.
    result = subprocess.run(
        [
            str(helm),
            "lint",
            "--strict",
            str(CHART),
            "--set",
            "replicaCount=2",
            "--set",
            "leaderElection.enabled=false",
        ],
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
    settings: dict[str, object] = dict.fromkeys(chart_values, 1)
    settings["issuerCheck"] = "Warn"
    settings["logFormat"] = "json"
    settings["issuerAllowCidrs"] = "10.0.0.0/8"
    settings["issuerDenyCidrs"] = "10.96.0.0/12"
    values = {
        "settings": settings,
        "managementCluster": "mgmt-1",
        "issuerCaBundle": "-----BEGIN CERTIFICATE-----\n",
    }
    path.write_text(json.dumps(values))
    deployment = _docs(helm, "-f", str(path))["Deployment/eks-oidc-operator"]
    env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    knobs = {f"EKS_OIDC_{name.upper()}" for name in OperatorSettings.model_fields}
    # The region is operator.region (AWS_REGION); ports, the management cluster and the
    # tenancy file (tenancy.rules, mounted) are top-level values.
    assert knobs - env == {"EKS_OIDC_DEFAULT_REGION"}
    # POD_NAME names the replica in the leader election's Lease.
    assert env - knobs <= {"AWS_REGION", "AWS_ENDPOINT_URL_EKS", "POD_NAME"}


def test_the_deployment_is_a_restricted_elected_writer(helm: Path) -> None:
    deployment = _docs(helm)["Deployment/eks-oidc-operator"]
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    # Leader election is on by default, so a rollout may overlap pods: the new one stands by.
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    without = _docs(helm, "--set", "leaderElection.enabled=false")
    assert without["Deployment/eks-oidc-operator"]["spec"]["strategy"] == {"type": "Recreate"}
    assert "Role/eks-oidc-operator-leader-election" not in without
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
    env = {e["name"]: e.get("value") for e in container["env"]}
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


CRD_NAME = "oidcidentityproviders.eksoidc.io"


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
            # No kubelet here, so no hook Job could run (the kind tier runs it).
            "--set",
            "crds.upgrade=false",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    assert "OidcIdentityProvider" in installed.stdout  # NOTES.txt was rendered
    deployment = cluster.get_json("deployment", release, "-n", namespace)
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    role = cluster.get_json("clusterrole", release)
    assert any("oidcidentityproviders/status" in r["resources"] for r in role["rules"])
    cluster.get_json("crd", "oidcidentityproviders.eksoidc.io")
    binding = cluster.get_json("clusterrolebinding", release)
    assert binding["subjects"][0] == {
        "kind": "ServiceAccount",
        "name": release,  # named after the release, like everything else
        "namespace": namespace,
    }
    cluster.get_json("serviceaccount", release, "-n", namespace)
    service = cluster.get_json("service", f"{release}-metrics", "-n", namespace)
    assert service["spec"]["ports"][0]["port"] == 9090
    releases = subprocess.run(
        [str(helm), "status", release, "-n", namespace, f"--kubeconfig={cluster.admin_kubeconfig}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "STATUS: deployed" in releases
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


@pytest.mark.e2e
def test_a_namespaced_install_runs_under_roles_and_cannot_touch_other_namespaces(
    helm: Path, cluster: Cluster, tmp_path: Path
) -> None:
    # operator.allNamespaces=false: no ClusterRole at all, a Role per watched namespace. Run
    # the real operator under exactly that RBAC (its own ServiceAccount and token) and check
    # it works where it should and nowhere else.
    crd = REPO / "crds" / "oidcidentityproviders.eksoidc.io.yaml"
    cluster.kubectl("apply", "--server-side", "-f", str(crd))
    cluster.kubectl("wait", "--for=condition=Established", "crd/oidcidentityproviders.eksoidc.io")
    home, watched, other = unique_name("op"), unique_name("watched"), unique_name("other")
    account, release = unique_name("sa"), unique_name("ns")
    for name in (watched, other):
        cluster.kubectl("create", "namespace", name)
    kubeconfig = operator_kubeconfig_via_token_request(
        cluster.admin_kubeconfig, cluster.kubectl_path, tmp_path / "op.kubeconfig", home, account
    )
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            release,
            str(CHART),
            f"--namespace={home}",
            f"--set=fullnameOverride={release}",
            f"--set=serviceAccount.name={account}",
            "--set=operator.allNamespaces=false",
            f"--set=operator.watchNamespaces={{{watched}}}",
            # All the RBAC there is in this mode: the Roles, and reading the one CRD by name.
            "--show-only=templates/role.yaml",
            "--show-only=templates/crd-reader.yaml",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cluster.kubectl("apply", "-f", "-", stdin=rendered)

    def can_i(verb: str, namespace: str) -> str:
        identity = f"--as=system:serviceaccount:{home}:{account}"
        resource = "oidcidentityproviders.eksoidc.io"
        # exit status 1 means "no"
        answer = cluster.kubectl(
            "auth", "can-i", verb, resource, "-n", namespace, identity, check=False
        )
        return answer.stdout.strip()

    assert (can_i("patch", watched), can_i("list", watched)) == ("yes", "yes")
    assert (can_i("patch", other), can_i("list", other)) == ("no", "no")

    def provider(namespace: str) -> dict[str, Any]:
        return {
            "apiVersion": "eksoidc.io/v1alpha1",
            "kind": "OidcIdentityProvider",
            "metadata": {"name": "sso", "namespace": namespace},
            "spec": {
                "clusterName": "scoped",
                "oidc": {"issuerUrl": "https://login.example.com", "clientId": "k8s"},
            },
        }

    def ready(namespace: str) -> str:
        got = cluster.get_json("oidcidp/sso", "-n", namespace)
        found = [c for c in got.get("status", {}).get("conditions", []) if c["type"] == "Ready"]
        return str(found[0]["status"]) if found else "absent"

    with running_simulator(associate_seconds=1, disassociate_seconds=1, seed=11) as simulator:
        simulator.create_cluster("scoped", "1.33")
        operator = OperatorProcess(kubeconfig, simulator.url, tmp_path / "operator.log")
        # OperatorProcess.start() watches every namespace; this install watches one.
        with operator.log_path.open("ab") as log:
            operator.process = subprocess.Popen(
                [sys.executable, "-m", "eks_oidc_operator", "run", f"--namespace={watched}"],
                env=operator.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            for namespace in (watched, other):
                assert cluster.apply(provider(namespace)).returncode == 0
            deadline = time.monotonic() + 60
            while ready(watched) != "True" and time.monotonic() < deadline:
                assert operator.process.poll() is None, operator.log_tail()
                time.sleep(0.5)
            assert ready(watched) == "True", operator.log_tail()
            assert ready(other) == "absent"  # never seen: no status, no finalizer
            assert (
                cluster.get_json("oidcidp/sso", "-n", other)["metadata"].get("finalizers", []) == []
            )
            # Deleting while the operator runs releases the finalizer (and disassociates).
            cluster.kubectl("delete", "oidcidp/sso", "-n", watched, "--timeout=60s")
        finally:
            operator.stop()
    denied = [line for line in operator.log().splitlines() if "forbidden" in line]
    assert denied == [], "\n".join(denied[:5])
    cluster.kubectl("delete", "oidcidp/sso", "-n", other, "--wait=false")


def test_two_replicas_get_a_disruption_budget_and_are_spread_over_nodes(helm: Path) -> None:
    one = _docs(helm)
    assert "PodDisruptionBudget/eks-oidc-operator" not in one  # it would block every drain
    assert (
        "topologySpreadConstraints"
        not in one["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]
    )
    two = _docs(helm, "--set", "replicaCount=2")
    pdb = two["PodDisruptionBudget/eks-oidc-operator"]
    assert pdb["spec"]["minAvailable"] == 1
    pod = two["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]
    (spread,) = pod["topologySpreadConstraints"]
    assert (spread["topologyKey"], spread["whenUnsatisfiable"]) == (
        "kubernetes.io/hostname",
        "ScheduleAnyway",
    )
    assert spread["labelSelector"]["matchLabels"] == pdb["spec"]["selector"]["matchLabels"]


def test_the_leader_election_role_reaches_one_lease_only(helm: Path) -> None:
    role = _docs(helm)["Role/eks-oidc-operator-leader-election"]
    assert role["metadata"]["namespace"] == "ops"  # the release namespace _template uses
    named, create = role["rules"]
    assert named == {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": ["eks-oidc-operator"],
        "verbs": ["get", "update"],
    }
    assert create["verbs"] == ["create"]
    assert "resourceNames" not in create
    env = {
        e["name"]: e
        for e in _docs(helm)["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
    }
    assert env["EKS_OIDC_LEADER_ELECTION"]["value"] == "true"
    assert env["EKS_OIDC_LEADER_ELECTION_NAME"]["value"] == "eks-oidc-operator"
    assert env["EKS_OIDC_LEADER_ELECTION_NAMESPACE"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.namespace"}
    }


def _operator_metric_names() -> set[str]:
    """Every series name the operator can export (counters with ``_total``, histograms with
    their parts), from its own registry."""
    from prometheus_client import REGISTRY

    import eks_oidc_operator.metrics  # noqa: F401 - registers the families

    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(f"{family.name}{suffix}" for suffix in ("_total", "_bucket", "_sum", "_count"))
    return names


def test_the_prometheus_rule_is_valid_promql_on_the_operator_s_own_metrics(helm: Path) -> None:
    import promql_parser

    assert "PrometheusRule/eks-oidc-operator" not in _docs(helm)
    rule = _docs(helm, "--set", "metrics.prometheusRule.enabled=true")[
        "PrometheusRule/eks-oidc-operator"
    ]
    rules = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert {r["alert"] for r in rules} == {
        "EksOidcObjectsStalled",
        "EksOidcUpdatesFailing",
        "EksOidcEksErrors",
        "EksOidcOperatorAbsent",
        "EksOidcNoLeader",
    }
    known = _operator_metric_names()
    for entry in rules:
        promql_parser.parse(entry["expr"])  # raises on a syntax error
        used = set(re.findall(r"\beks_oidc_[a-z_]+", entry["expr"]))
        assert used, entry["alert"]
        assert used <= known, (entry["alert"], used - known)
        assert entry["labels"]["severity"] in ("warning", "critical")
        assert entry["annotations"]["summary"]
        assert re.fullmatch(r"[0-9]+[smh]", entry["for"])
        # Scoped to the release's own series (tests/chart/test_alerts.py runs them).
        assert 'job="eks-oidc-operator-metrics"' in entry["expr"], entry["alert"]
    # Without an election there is no leader to miss.
    alone = _docs(
        helm,
        "--set",
        "metrics.prometheusRule.enabled=true",
        "--set",
        "leaderElection.enabled=false",
    )["PrometheusRule/eks-oidc-operator"]
    assert "EksOidcNoLeader" not in json.dumps(alone)


def test_docs_metrics_lists_every_family_the_operator_exports() -> None:
    from prometheus_client import REGISTRY

    import eks_oidc_operator.metrics  # noqa: F401

    documented = (REPO / "docs" / "metrics.md").read_text()
    families = {f.name for f in REGISTRY.collect() if f.name.startswith("eks_oidc_")}
    assert families, "no families registered"
    missing = [
        name
        for name in families
        if f"`{name}`" not in documented and f"`{name}_total`" not in documented
    ]
    assert missing == []


def test_it_works_as_a_subchart_with_and_without_global_values(helm: Path, tmp_path: Path) -> None:
    umbrella = tmp_path / "platform"
    (umbrella / "templates").mkdir(
        parents=True
    )  # Helm 4's strict lint wants one, as real ones have
    (umbrella / "values.yaml").write_text("{}\n")
    (umbrella / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": "platform",
                "version": "1.0.0",
                "dependencies": [
                    {
                        "name": "eks-oidc-operator",
                        "version": "*",
                        "repository": f"file://{CHART}",
                    }
                ],
            }
        )
    )
    run = functools.partial(subprocess.run, capture_output=True, text=True, check=False)
    built = run([str(helm), "dependency", "build", str(umbrella)])
    assert built.returncode == 0, built.stderr
    for values in ({}, {"global": {"imageRegistry": "registry.example.com"}}):
        path = tmp_path / "values.yaml"
        path.write_text(yaml.safe_dump({**values, "eks-oidc-operator": {"replicaCount": 2}}))
        linted = run([str(helm), "lint", "--strict", str(umbrella), "-f", str(path)])
        assert linted.returncode == 0, linted.stdout + linted.stderr
        rendered = run([str(helm), "template", "platform", str(umbrella), "-f", str(path)])
        assert rendered.returncode == 0, rendered.stderr
        kinds = {d["kind"] for d in yaml.safe_load_all(rendered.stdout) if d}
        assert {"Deployment", "ClusterRole", "PodDisruptionBudget"} <= kinds


def test_numbers_given_with_set_are_accepted_as_helm_passes_them(helm: Path) -> None:
    # `--set` hands "0.1" over as a string; the schema takes a number's text too.
    docs = _docs(
        helm,
        "--set",
        "settings.jitter=0.1",
        "--set",
        "settings.pollMaxSeconds=20",
        "--set",
        "leaderElection.retryPeriodSeconds=1.5",
    )
    env = {
        e["name"]: e.get("value")
        for e in docs["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]["containers"][0][
            "env"
        ]
    }
    assert (env["EKS_OIDC_JITTER"], env["EKS_OIDC_POLL_MAX_SECONDS"]) == ("0.1", "20")
    assert env["EKS_OIDC_RETRY_PERIOD_SECONDS"] == "1.5"
    refused = _template(helm, "--set", "settings.jitter=lots", check=False)
    assert refused.returncode != 0
    assert "/settings/jitter" in refused.stderr


@pytest.mark.parametrize(
    ("given", "said"),
    [
        # --set passes a decimal as text, which the schema's ranges never saw: these installed
        # and then crash-looped the pod.
        ("settings.jitter=1.5", "settings.jitter: 1.5 is out of range (at least 0, at most 1)"),
        ("settings.pollMaxSeconds=0.0", "settings.pollMaxSeconds: 0.0 is out of range (above 0)"),
        ("settings.issuerTimeoutSeconds=30.5", "settings.issuerTimeoutSeconds: 30.5"),
        (
            "leaderElection.renewDeadlineSeconds=20",
            "retryPeriodSeconds (2) < renewDeadlineSeconds (20) < leaseDurationSeconds (15)",
        ),
        ("leaderElection.retryPeriodSeconds=10.5", "retryPeriodSeconds (10.5)"),
    ],
)
def test_a_number_out_of_range_is_refused_by_helm_whatever_its_type(
    helm: Path, given: str, said: str
) -> None:
    refused = _template(helm, "--set", given, check=False)
    assert refused.returncode != 0
    assert said in refused.stderr, refused.stderr


def test_an_umbrella_charts_switch_and_globals_are_honoured(helm: Path) -> None:
    docs = _docs(
        helm,
        "--set",
        "enabled=true",
        "--set",
        "global.imageRegistry=mirror.example.com:5000",
        "--set-json",
        'global.imagePullSecrets=["mirror", {"name": "shared"}]',
        "--set-json",
        'imagePullSecrets=[{"name": "shared"}, {"name": "own"}]',
    )
    pod = docs["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == (
        f"mirror.example.com:5000/eks-oidc-operator/eks-oidc-operator:{APP_VERSION}"
    )
    assert pod["imagePullSecrets"] == [{"name": "mirror"}, {"name": "shared"}, {"name": "own"}]
    # A repository without a registry host gets the mirror in front.
    plain = _docs(helm, "--set", "global.imageRegistry=mirror", "--set", "image.repository=a/b")
    image = plain["Deployment/eks-oidc-operator"]["spec"]["template"]["spec"]["containers"][0]
    assert image["image"] == f"mirror/a/b:{APP_VERSION}"


def test_the_pod_values_reach_the_pod(helm: Path, tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    path = tmp_path / "values.json"
    path.write_text(
        json.dumps(
            {
                "image": {"repository": "registry.example.com/eks-oidc", "digest": digest},
                "priorityClassName": "platform-critical",
                "podLabels": {"team": "platform"},
                "commonLabels": {"cost-center": "42"},
                "extraArgs": ["--log-format=json"],
                "env": [
                    {
                        "name": "HTTPS_PROXY",
                        "valueFrom": {"secretKeyRef": {"name": "proxy", "key": "url"}},
                    }
                ],
                "extraVolumes": [{"name": "extra", "emptyDir": {}}],
                "extraVolumeMounts": [{"name": "extra", "mountPath": "/extra"}],
                "podSecurityContext": {"runAsNonRoot": True, "fsGroup": 10001},
            }
        )
    )
    docs = _docs(helm, "-f", str(path))
    deployment = docs["Deployment/eks-oidc-operator"]
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == f"registry.example.com/eks-oidc@{digest}"
    assert pod["spec"]["priorityClassName"] == "platform-critical"
    assert pod["metadata"]["labels"]["team"] == "platform"
    assert pod["metadata"]["labels"]["cost-center"] == "42"
    assert all(d["metadata"]["labels"]["cost-center"] == "42" for d in docs.values())
    assert container["args"][-1] == "--log-format=json"
    proxy = next(e for e in container["env"] if e["name"] == "HTTPS_PROXY")
    assert proxy["valueFrom"]["secretKeyRef"] == {"name": "proxy", "key": "url"}
    assert {"name": "extra", "emptyDir": {}} in pod["spec"]["volumes"]
    assert {"name": "extra", "mountPath": "/extra"} in container["volumeMounts"]
    assert pod["spec"]["securityContext"]["fsGroup"] == 10001
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}


def test_chart_metadata_points_home() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["home"].startswith("https://")
    assert chart["sources"]
    assert chart["icon"].endswith("docs/icon.svg")
    assert (REPO / "docs" / "icon.svg").exists()


def test_the_chart_readme_values_table_is_current() -> None:
    _generated_is_current("chart_readme.py")
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for key in values:  # every top-level value has a row
        assert f"| `{key}` |" in readme, key


@pytest.mark.e2e
def test_helm_install_and_uninstall_leave_an_installed_crd_as_it_is(
    helm: Path, cluster: Cluster, crd_installed: None
) -> None:
    """The CRD applied before (as other tests do) is not Helm's: install takes it as it is,
    with no ownership conflict, and uninstall leaves it (the upgrade hook runs on kind)."""
    namespace, release = unique_name("helm"), unique_name("rel")
    base = [f"--kubeconfig={cluster.admin_kubeconfig}", "--namespace", namespace]
    run = functools.partial(subprocess.run, capture_output=True, text=True, check=False)
    before = cluster.get_json("crd", CRD_NAME)["metadata"]
    installed = run(
        [
            str(helm),
            "install",
            release,
            str(CHART),
            *base,
            "--create-namespace",
            "--set",
            f"fullnameOverride={release}",
            "--set",
            "replicaCount=0",
            "--set",
            "crds.upgrade=false",
        ]
    )
    assert installed.returncode == 0, installed.stderr
    uninstalled = run([str(helm), "uninstall", release, *base])
    assert uninstalled.returncode == 0, uninstalled.stderr
    after = cluster.get_json("crd", CRD_NAME)["metadata"]  # still there, the same object
    assert (after["uid"], after.get("labels")) == (before["uid"], before.get("labels"))


def test_the_values_an_sre_expects_reach_the_objects(helm: Path, tmp_path: Path) -> None:
    path = tmp_path / "values.json"
    path.write_text(
        json.dumps(
            {
                "deploymentAnnotations": {"reloader.stakater.com/auto": "true"},
                "revisionHistoryLimit": 3,
                "strategy": {"type": "Recreate"},
                "livenessProbe": {"periodSeconds": 15, "timeoutSeconds": 2, "failureThreshold": 5},
                "readinessProbe": {"initialDelaySeconds": 1, "periodSeconds": 4},
                "metrics": {
                    "serviceMonitor": {
                        "enabled": True,
                        "interval": "1m",
                        "scrapeTimeout": "45s",
                        "relabelings": [{"action": "labeldrop", "regex": "pod"}],
                        "metricRelabelings": [{"action": "drop", "regex": "python_.*"}],
                    }
                },
            }
        )
    )
    docs = _docs(helm, "-f", str(path))
    deployment = docs["Deployment/eks-oidc-operator"]
    assert deployment["metadata"]["annotations"] == {"reloader.stakater.com/auto": "true"}
    assert deployment["spec"]["revisionHistoryLimit"] == 3
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "healthz"},
        "periodSeconds": 15,
        "timeoutSeconds": 2,
        "failureThreshold": 5,
    }
    assert container["readinessProbe"]["initialDelaySeconds"] == 1
    assert container["readinessProbe"]["periodSeconds"] == 4
    # The token: mounted into the operator's pod, not by default into any pod of the account.
    assert pod["automountServiceAccountToken"] is True
    assert docs["ServiceAccount/eks-oidc-operator"]["automountServiceAccountToken"] is False
    (endpoint,) = docs["ServiceMonitor/eks-oidc-operator"]["spec"]["endpoints"]
    assert endpoint["scrapeTimeout"] == "45s"
    assert endpoint["relabelings"] == [{"action": "labeldrop", "regex": "pod"}]
    assert endpoint["metricRelabelings"] == [{"action": "drop", "regex": "python_.*"}]
    # The defaults: the chart's strategy, 10 old ReplicaSets, no scrape timeout of its own.
    defaults = _docs(helm, "--set", "metrics.serviceMonitor.enabled=true")
    assert defaults["Deployment/eks-oidc-operator"]["spec"]["revisionHistoryLimit"] == 10
    assert defaults["Deployment/eks-oidc-operator"]["spec"]["strategy"]["type"] == "RollingUpdate"
    assert (
        "scrapeTimeout" not in defaults["ServiceMonitor/eks-oidc-operator"]["spec"]["endpoints"][0]
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (
            ["--set", "leaderElection.enabled=false", "--set", "strategy.type=RollingUpdate"],
            "strategy.type: RollingUpdate needs leaderElection.enabled",
        ),
        (
            ["--set", "metrics.serviceMonitor.scrapeTimeout=40s"],
            "scrapeTimeout (40s) must not exceed interval (30s)",
        ),
        (["--set", "livenessProbe.periodSeconds=0"], "/livenessProbe/periodSeconds"),
        (["--set", "strategy.type=BlueGreen"], "/strategy/type"),
    ],
)
def test_helm_refuses_sre_values_that_cannot_work(
    helm: Path, args: list[str], complaint: str
) -> None:
    result = _template(helm, *args, check=False)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_every_name_carries_the_release_so_two_releases_never_collide(helm: Path) -> None:
    rendered = subprocess.run(
        [str(helm), "template", "team-a", str(CHART), "--namespace", "ops-a"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    assert docs
    for doc in docs:
        assert doc["metadata"]["name"].startswith("team-a-"), (doc["kind"], doc["metadata"]["name"])
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "team-a-eks-oidc-operator"
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["EKS_OIDC_LEADER_ELECTION_NAME"] == "team-a-eks-oidc-operator"
    # The default release name keeps the names the docs and deploy/ use.
    default = _docs(helm)
    assert "Deployment/eks-oidc-operator" in default
    assert "ServiceAccount/eks-oidc-operator" in default
