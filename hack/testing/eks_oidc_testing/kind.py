"""A kind cluster for the kind test tier, through pytest-kind, from what ``hack/kind`` builds.

pytest-kind's ``KindCluster`` would download kind and kubectl; here it is given the kind built
from its Go module and the control plane's kubectl, and the node image ``hack/kind/build.sh``
built (or, with ``EKS_OIDC_KIND_NODE=upstream``, kind's published one). The cluster uses the
project's own Docker daemon (``DOCKER_HOST``, set by the Makefile); when that daemon does not
answer, the tier fails with what is missing: it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eks_oidc_testing.paths import REPO
from eks_oidc_testing.ports import free_port

TEST_CLUSTER = "eks-oidc-test"
"""The kind tier's cluster; ``make kind-up``'s is ``eks-oidc``, so a run never takes it over."""
SIMULATOR_NODE_PORT = 30566
"""The in-cluster EKS simulator's NodePort (hack/kind/simulator.yaml), published on loopback."""
IMAGE = os.environ.get("IMAGE", "eks-oidc-operator:dev")
"""The operator image (``make image``), loaded into the cluster."""


class KindUnavailableError(RuntimeError):
    """The kind tier cannot run here; the message names what is missing."""


@dataclass(frozen=True)
class KindBuild:
    """What ``hack/kind/build.sh`` printed: the kind binary and the node image."""

    kind: Path
    node_image: str


def docker_host() -> str:
    """The project's Docker daemon, unless the caller pointed DOCKER_HOST elsewhere."""
    return os.environ.get("DOCKER_HOST") or f"unix://{REPO / '.local' / 'docker.sock'}"


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "DOCKER_HOST": docker_host()},
    )


def require_docker() -> None:
    """Fail, naming what is missing, unless the project's Docker daemon answers."""
    try:
        answer = _docker("version", "--format", "{{.Server.Version}}", timeout=20)
    except FileNotFoundError as error:
        msg = "the kind tier needs the docker CLI on PATH (Debian's docker.io: make docker-up)"
        raise KindUnavailableError(msg) from error
    if answer.returncode != 0:
        msg = (
            f"the kind tier needs a Docker engine at {docker_host()}, and it does not answer "
            f"({answer.stderr.strip()}): start the project's daemon with `make docker-up`"
        )
        raise KindUnavailableError(msg)
    image = _docker("image", "inspect", IMAGE)
    if image.returncode != 0:
        msg = f"the kind tier needs the operator image {IMAGE}: build it with `make image`"
        raise KindUnavailableError(msg)


def build() -> KindBuild:
    """Run ``hack/kind/build.sh`` (cached: seconds when nothing changed)."""
    result = subprocess.run(
        ["bash", str(REPO / "hack" / "kind" / "build.sh")],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        env={**os.environ, "DOCKER_HOST": docker_host()},
    )
    if result.returncode != 0:
        msg = f"hack/kind/build.sh failed with exit code {result.returncode}"
        raise KindUnavailableError(msg)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return KindBuild(kind=Path(lines["kind"]), node_image=lines["node-image"])


def simulator_url(name: str = TEST_CLUSTER) -> str:
    """The in-cluster simulator's URL on this machine (its NodePort, published on loopback)."""
    answer = _docker("port", f"{name}-control-plane", f"{SIMULATOR_NODE_PORT}/tcp")
    published = answer.stdout.splitlines()[0].strip() if answer.returncode == 0 else ""
    if not published:
        msg = f"the kind node publishes no port for the simulator: {answer.stderr.strip()}"
        raise KindUnavailableError(msg)
    return f"http://{published}"


@contextmanager
def kind_cluster(workdir: Path, kubectl: Path, name: str = TEST_CLUSTER) -> Iterator[Path]:
    """A one-node kind cluster with the operator image loaded; yields its admin kubeconfig and
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
        cluster.load_docker_image(IMAGE)
        yield Path(cluster.kubeconfig_path)
    finally:
        cluster.delete()
        if env_before is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = env_before
