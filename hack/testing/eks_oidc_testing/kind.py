"""A kind cluster for the kind test tier, through pytest-kind, from what ``hack/kind`` builds.

pytest-kind's ``KindCluster`` would download kind and kubectl; here it is given the kind built
from its Go module and the control plane's kubectl, and the node image ``hack/kind/build.sh``
built (or, with ``EKS_OIDC_KIND_NODE=upstream``, kind's published one). The cluster uses the
project's own Docker daemon (``DOCKER_HOST``, set by the Makefile); when that daemon does not
answer, the tier fails with what is missing: it is never skipped.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eks_oidc_testing.docker import daemon_problem, docker, docker_env, docker_host
from eks_oidc_testing.paths import REPO
from eks_oidc_testing.ports import free_port

TEST_CLUSTER = f"eks-oidc-test-{hashlib.sha256(str(REPO).encode()).hexdigest()[:6]}"
"""The kind tier's cluster, named after the checkout: ``make kind-up``'s is ``eks-oidc``, and two
checkouts sharing the project's daemon never delete each other's."""
SIMULATOR_NODE_PORT = 30566
"""The in-cluster EKS simulator's NodePort (hack/kind/simulator.yaml), published on loopback."""
IMAGE = os.environ.get("IMAGE", "eks-oidc-operator:dev")
"""The operator image (``make image``); the kind tier runs what the release published of it."""
SIMULATOR_MANIFEST = REPO / "hack" / "kind" / "simulator.yaml"
RELEASE_DIR = REPO / ".local" / "release"


def published(name: str = "release") -> dict[str, str]:
    """``.local/release/<name>.env``: what hack/release/local.sh (``release``) or
    hack/release/previous.sh (``previous``) published to the local registry."""
    path = RELEASE_DIR / f"{name}.env"
    if not path.exists():
        msg = (
            f"{path} is missing: publish first (hack/release/publish-for-tests.sh; make test does)"
        )
        raise KindUnavailableError(msg)
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def released_image() -> str:
    """The image the release published to the local registry, by digest."""
    release = published()
    return f"{release['IMAGE_REPOSITORY']}@{release['IMAGE_DIGEST']}"


def simulator_manifest() -> str:
    """``hack/kind/simulator.yaml`` with the simulator's image set to the released one: the
    node pulls everything from the registry, and nothing is loaded by kind."""
    return SIMULATOR_MANIFEST.read_text().replace(
        "image: eks-oidc-operator:dev", f"image: {released_image()}"
    )


class KindUnavailableError(RuntimeError):
    """The kind tier cannot run here; the message names what is missing."""


@dataclass(frozen=True)
class KindBuild:
    """What ``hack/kind/build.sh`` printed: the kind binary and the node image."""

    kind: Path
    node_image: str


def require_docker() -> None:
    """Fail, naming what is missing, unless the daemon answers and holds the operator image."""
    problem = daemon_problem()
    if problem is not None:
        raise KindUnavailableError(f"the kind tier needs a Docker engine: {problem}")
    if docker("image", "inspect", IMAGE).returncode != 0:
        msg = f"the kind tier needs the operator image {IMAGE}: build it with `make image`"
        raise KindUnavailableError(msg)


def build() -> KindBuild:
    """Run ``hack/kind/build.sh`` (cached: seconds when nothing changed)."""
    result = subprocess.run(
        ["bash", str(REPO / "hack" / "kind" / "build.sh")],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        env=docker_env(),
    )
    if result.returncode != 0:
        msg = f"hack/kind/build.sh failed with exit code {result.returncode}"
        raise KindUnavailableError(msg)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return KindBuild(kind=Path(lines["kind"]), node_image=lines["node-image"])


def simulator_url(name: str = TEST_CLUSTER) -> str:
    """The in-cluster simulator's URL on this machine (its NodePort, published on loopback)."""
    answer = docker("port", f"{name}-control-plane", f"{SIMULATOR_NODE_PORT}/tcp")
    published = answer.stdout.splitlines()[0].strip() if answer.returncode == 0 else ""
    if not published:
        msg = f"the kind node publishes no port for the simulator: {answer.stderr.strip()}"
        raise KindUnavailableError(msg)
    return f"http://{published}"


@contextmanager
def kind_cluster(workdir: Path, kubectl: Path, name: str = TEST_CLUSTER) -> Iterator[Path]:
    """A one-node kind cluster that pulls from the local registry; yields its admin kubeconfig and
    deletes the cluster at exit (and first, if a killed run left one behind)."""
    from pytest_kind import KindCluster  # imported late: it needs Docker only to run

    require_docker()
    built = build()
    config = workdir / "kind-config.yaml"
    config.write_text(
        subprocess.run(
            [
                "bash",
                str(REPO / "hack" / "kind" / "config.sh"),
                built.node_image,
                str(free_port()),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    env_before = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = docker_host()  # pytest-kind runs kind with this environment
    cluster = KindCluster(
        name,
        kubeconfig=workdir / "kubeconfig",
        image=built.node_image,
        kind_path=built.kind,
        kubectl_path=kubectl,
    )
    listed = subprocess.run(
        [str(built.kind), "get", "clusters"], capture_output=True, text=True, check=False
    )
    if name in listed.stdout.split():
        cluster.delete()
    try:
        cluster.create(config)
        mirrored = subprocess.run(
            ["bash", str(REPO / "hack" / "release" / "kind-mirror.sh"), name],
            capture_output=True,
            text=True,
            check=False,
        )
        if mirrored.returncode != 0:
            msg = (
                "the kind tier installs the release from the local registry: publish it first "
                f"(hack/release/local.sh; make test does): {mirrored.stderr.strip()}"
            )
            raise KindUnavailableError(msg)
        yield Path(cluster.kubeconfig_path)
    finally:
        cluster.delete()
        if env_before is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = env_before
