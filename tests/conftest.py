"""Test-wide wiring: the ``e2e`` marker's cluster, chosen by ``--cluster`` or ``E2E_KUBECONFIG``.

- default (``--cluster=local``): a real etcd + kube-apiserver built from Go modules and started
  on loopback for this session (``eks_oidc_testing.controlplane``); what CI runs, never skipped;
- ``--cluster=kind``: a kind cluster through pytest-kind, on the project's own Docker daemon,
  from a node image built here (``eks_oidc_testing.kind``); what ``make test-kind`` runs (and
  ``make test``, hence CI), and it fails -- never skips -- where no Docker engine answers;
- ``E2E_KUBECONFIG=path``: any existing cluster (its admin kubeconfig).

Tests marked ``pods`` need the operator installed by the chart as pods (``tests/kind``): they run
only on kind and are deselected elsewhere.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing import controlplane, kind
from eks_oidc_testing.kube import Cluster, operator_kubeconfig_via_token_request, unique_name
from eks_oidc_testing.paths import REPO

CHART = REPO / "charts" / "eks-oidc-operator"
RBAC_TEMPLATES = (
    "serviceaccount.yaml",
    "clusterrole.yaml",
    "clusterrolebinding.yaml",
    "crd-reader.yaml",  # reading the CRD by name: is it being deleted?
    "leader-election.yaml",
    "tenancy.yaml",  # the policy's ConfigMap, and events on it
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cluster",
        choices=["local", "kind"],
        default="local",
        help="where e2e tests run: the local control plane (default) or kind (needs Docker)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the ``pods`` tests except on kind: the local control plane has no kubelet, and
    they drive a kind node (its published simulator port) that another cluster lacks."""
    if config.getoption("--cluster") == "kind" and not os.environ.get("E2E_KUBECONFIG"):
        return
    deselected = [item for item in items if item.get_closest_marker("pods")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("pods")]


def _for_foreign_cluster(admin: Path, kind: str, workdir: Path) -> Cluster:
    kubectl = controlplane.bin_dir() / "kubectl"
    operator = operator_kubeconfig_via_token_request(
        admin,
        kubectl,
        workdir / "operator.kubeconfig",
        controlplane.OPERATOR_NAMESPACE,
        controlplane.OPERATOR_SERVICE_ACCOUNT,
    )
    version = subprocess.run(
        [str(kubectl), f"--kubeconfig={admin}", "version", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Cluster(admin, operator, kubectl, version, kind)


@pytest.fixture(scope="session")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """The Kubernetes API server of this test session."""
    existing = os.environ.get("E2E_KUBECONFIG")
    if existing:
        yield _for_foreign_cluster(Path(existing), "existing", tmp_path_factory.mktemp("existing"))
        return
    if request.config.getoption("--cluster") == "kind":
        workdir = tmp_path_factory.mktemp("kind")
        kubectl = controlplane.bin_dir() / "kubectl"
        with kind.kind_cluster(workdir, kubectl) as admin:
            yield _for_foreign_cluster(admin, "kind", workdir)
        return
    binaries = controlplane.bin_dir()
    with controlplane.running(tmp_path_factory.mktemp("controlplane"), binaries=binaries) as plane:
        yield Cluster(
            admin_kubeconfig=Path(plane.admin_kubeconfig),
            operator_kubeconfig=Path(plane.operator_kubeconfig),
            kubectl_path=binaries / "kubectl",
            version=plane.version,
            kind="local",
        )


@pytest.fixture(scope="session")
def crd_installed(cluster: Cluster) -> None:
    crd = REPO / "crds" / f"{constants.CRD_NAME}.yaml"
    cluster.kubectl("apply", "--server-side", "-f", str(crd))
    cluster.kubectl(
        "wait", "--for=condition=Established", f"crd/{constants.CRD_NAME}", "--timeout=30s"
    )


@pytest.fixture(scope="session")
def chart_rbac(cluster: Cluster) -> str:
    """The chart's own ServiceAccount and least-privilege RBAC, rendered by helm."""
    helm = cluster.kubectl_path.parent / "helm"
    shown = [arg for name in RBAC_TEMPLATES for arg in ("--show-only", f"templates/{name}")]
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            "eks-oidc-operator",
            str(CHART),
            "--namespace",
            constants.OPERATOR_NAMESPACE,
            *shown,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cluster.kubectl("apply", "-f", "-", stdin=rendered)
    return rendered


@pytest.fixture
def make_namespace(cluster: Cluster) -> Iterator[Callable[[], str]]:
    """Fresh namespaces on demand, so tests never see each other's objects."""
    made: list[str] = []

    def make() -> str:
        name = unique_name("t")
        cluster.kubectl("create", "namespace", name)
        made.append(name)
        return name

    yield make
    for name in made:
        # Delete our objects first (a running operator finalizes them; others have no
        # finalizer), so no later operator inherits them. No controller-manager runs locally, so
        # the namespace itself stays Terminating: don't wait for it.
        cluster.kubectl(
            "delete",
            "oidcidentityproviders.eksoidc.io",
            "--all",
            "-n",
            name,
            "--wait=false",
            check=False,
        )
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def namespace(make_namespace: Callable[[], str]) -> str:
    """A fresh namespace for this test."""
    return make_namespace()
