"""Proof that the local control plane behaves like a real cluster where the operator needs it.

CRD schema and CEL validation, the status subresource, generation, RBAC for the operator's own
identity, and Events: each is something a fake API server gets wrong, so each is checked here
against the real kube-apiserver.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing import controlplane
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.paths import REPO

pytestmark = pytest.mark.e2e

CRD_FILE = REPO / "crds" / f"{constants.CRD_NAME}.yaml"


def _object(name: str, namespace: str, **oidc: str) -> dict[str, Any]:
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "clusterName": "prod-eu",
            "oidc": {"issuerUrl": "https://login.example.com", "clientId": "kubernetes", **oidc},
        },
    }


@pytest.fixture(scope="module")
def crd(cluster: Cluster) -> str:
    result = cluster.kubectl(
        "apply", "--server-side", f"--field-manager={constants.FIELD_MANAGER}", "-f", str(CRD_FILE)
    )
    assert "serverside-applied" in result.stdout
    cluster.kubectl(
        "wait", "--for=condition=Established", f"crd/{constants.CRD_NAME}", "--timeout=30s"
    )
    return constants.CRD_NAME


def test_the_server_reports_the_version_built_from_go_modules(cluster: Cluster) -> None:
    if cluster.kind != "local":
        pytest.skip("only the local control plane is built from hack/controlplane/kube/go.mod")
    go_mod = (REPO / "hack/controlplane/kube/go.mod").read_text()
    pinned = re.search(r"require k8s.io/kubernetes (v\S+)", go_mod)
    assert pinned is not None
    reported = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert reported["serverVersion"]["gitVersion"] == pinned.group(1)
    assert reported["clientVersion"]["gitVersion"] == pinned.group(1)


def test_the_crd_installs_with_server_side_apply(cluster: Cluster, crd: str) -> None:
    installed = cluster.get_json(f"crd/{crd}", "--show-managed-fields")
    assert installed["spec"]["names"]["shortNames"] == ["oidcidp"]
    managers = {entry["manager"] for entry in installed["metadata"]["managedFields"]}
    assert constants.FIELD_MANAGER in managers
    resources = cluster.kubectl("api-resources", f"--api-group={constants.GROUP}").stdout
    assert constants.PLURAL in resources


def test_a_plain_http_issuer_is_refused_at_apply_with_a_message_naming_the_field(
    cluster: Cluster, crd: str, namespace: str
) -> None:
    result = cluster.apply(_object("bad", namespace, issuerUrl="http://login.example.com"))
    assert result.returncode != 0
    assert "spec.oidc.issuerUrl" in result.stderr
    assert "must start with https://" in result.stderr
    assert cluster.kubectl("get", "oidcidp", "-n", namespace, "-o", "name").stdout == ""


def test_status_is_kept_only_through_the_status_subresource_and_generation_tracks_spec(
    cluster: Cluster, crd: str, namespace: str
) -> None:
    name = unique_name("idp")
    created = cluster.apply(_object(name, namespace))
    assert created.returncode == 0, created.stderr
    ref = [f"oidcidp/{name}", "-n", namespace]
    status = json.dumps({"status": {"phase": "Active", "observedGeneration": 1}})

    cluster.kubectl("patch", *ref, "--type=merge", "-p", status)
    # The main endpoint drops status: what is served is the CRD's default, untouched.
    assert cluster.get_json(*ref)["status"] == {"observedGeneration": 0}

    cluster.kubectl("patch", *ref, "--subresource=status", "--type=merge", "-p", status)
    after_status = cluster.get_json(*ref)
    assert after_status["status"]["phase"] == "Active"
    assert after_status["metadata"]["generation"] == 1  # a status write is not a spec change

    cluster.kubectl("patch", *ref, "--type=merge", "-p", '{"spec": {"tags": {"team": "platform"}}}')
    after_spec = cluster.get_json(*ref)
    assert after_spec["metadata"]["generation"] == 2
    assert after_spec["status"]["phase"] == "Active"  # a spec write leaves status alone


def test_the_operator_identity_gets_only_what_a_role_binding_grants(
    cluster: Cluster, namespace: str
) -> None:
    denied = cluster.kubectl("get", "secrets", "-n", namespace, as_operator=True, check=False)
    assert denied.returncode != 0
    assert "forbidden" in denied.stderr.lower()
    assert controlplane.OPERATOR_USER in denied.stderr

    cluster.kubectl(
        "create", "role", "read-secrets", "-n", namespace, "--verb=get,list", "--resource=secrets"
    )
    cluster.kubectl(
        "create",
        "rolebinding",
        "read-secrets",
        "-n",
        namespace,
        "--role=read-secrets",
        f"--serviceaccount={controlplane.OPERATOR_NAMESPACE}:"
        f"{controlplane.OPERATOR_SERVICE_ACCOUNT}",
    )
    deadline = time.monotonic() + 15  # the RBAC authorizer reads from an informer cache
    while True:
        allowed = cluster.kubectl("get", "secrets", "-n", namespace, as_operator=True, check=False)
        if allowed.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert allowed.returncode == 0, allowed.stderr
    # The grant is exactly what was bound: other namespaces and other verbs stay closed.
    other = cluster.kubectl("get", "secrets", "-n", "kube-system", as_operator=True, check=False)
    assert other.returncode != 0
    create = cluster.kubectl(
        "create", "secret", "generic", "x", "-n", namespace, as_operator=True, check=False
    )
    assert create.returncode != 0


def test_an_event_can_be_created_and_read_back(cluster: Cluster, crd: str, namespace: str) -> None:
    name = unique_name("idp")
    assert cluster.apply(_object(name, namespace)).returncode == 0
    uid = cluster.get_json(f"oidcidp/{name}", "-n", namespace)["metadata"]["uid"]
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": "proof-", "namespace": namespace},
        "involvedObject": {
            "apiVersion": constants.API_VERSION,
            "kind": constants.KIND,
            "name": name,
            "namespace": namespace,
            "uid": uid,
        },
        "type": "Normal",
        "reason": "Associated",
        "message": "proof that events can be posted",
        "source": {"component": "eks-oidc-operator"},
    }
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(event))
    events = cluster.get_json(
        "events", "-n", namespace, f"--field-selector=involvedObject.uid={uid}"
    )["items"]
    assert [(e["reason"], e["type"]) for e in events] == [("Associated", "Normal")]


def test_two_control_planes_run_side_by_side_and_stop_cleanly(
    cluster: Cluster, tmp_path: Path
) -> None:
    if cluster.kind != "local":
        pytest.skip("starts a second local control plane; irrelevant on kind or E2E_KUBECONFIG")
    with controlplane.running(tmp_path / "second", binaries=controlplane.bin_dir()) as second:
        first = json.loads(cluster.admin_kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        assert second.server != first
        version = cluster.kubectl(
            f"--kubeconfig={second.admin_kubeconfig}", "version", "-o", "json"
        )
        assert json.loads(version.stdout)["serverVersion"]["gitVersion"] == second.version
        pids = (second.apiserver_pid, second.etcd_pid)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} survived stop()"
