"""The image's install steps work in a clean directory, and its entrypoint runs the operator.

No Docker engine exists here, so this runs what the Dockerfile runs: the files it copies, the
same install script, then the same entrypoint -- against the local control plane, under the
chart's RBAC -- and asks its liveness probe.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.paths import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def _copied_paths() -> list[str]:
    """Sources of the build stage's COPY lines (``COPY a b ./`` -> a, b)."""
    paths: list[str] = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            paths += line.split()[1:-1]
    return paths


def _dockerfile_env() -> dict[str, str]:
    """The runtime stage's ``ENV`` pairs, except PATH (the test's venv is elsewhere)."""
    block = DOCKERFILE.split("\nENV ", 1)[1].split("\nUSER", 1)[0]
    pairs = dict(item.split("=", 1) for item in block.replace("\\", " ").split())
    pairs.pop("PATH")
    return pairs


def test_the_dockerfile_uses_the_shared_install_step_and_runs_as_non_root() -> None:
    assert "RUN sh hack/image-install.sh /opt/venv" in DOCKERFILE
    assert "USER 10001" in DOCKERFILE
    assert 'ENTRYPOINT ["eks-oidc-operator"]' in DOCKERFILE
    assert DOCKERFILE.count("FROM ") == 2  # build stage, then a runtime stage without uv


def test_the_image_uses_the_uv_the_tests_use() -> None:
    # The image test runs the dev environment's uv; the image must install with that version.
    docker_pin = re.findall(r'"uv==([^"]+)"', DOCKERFILE)
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    dev_pin = [entry.removeprefix("uv==") for entry in dev if entry.startswith("uv==")]
    assert docker_pin == dev_pin
    assert len(docker_pin) == 1


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file() or path.is_symlink()
    }


@pytest.mark.e2e
def test_install_steps_in_a_clean_directory_give_a_working_entrypoint(
    cluster: Cluster, chart_rbac: str, crd_installed: None, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for path in _copied_paths():
        origin = REPO / path
        if origin.is_dir():
            shutil.copytree(origin, src / path, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (src / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(origin, src / path)
    venv = tmp_path / "venv"
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    }
    env["UV"] = str(REPO / ".venv" / "bin" / "uv")  # the dev environment's pinned uv
    subprocess.run(
        ["sh", "hack/image-install.sh", str(venv)],
        cwd=src,
        env=env,
        check=True,
        capture_output=True,
    )
    assert not (venv / "bin" / "pytest").exists()  # no dev dependencies in the image
    assert not list(venv.glob("lib/*/site-packages/eks_oidc_testing*"))  # nor the local stack
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # As in the image: a HOME that does not exist and a working directory of its own; the
    # pod's root filesystem is read-only, so the process may write nowhere but /tmp.
    home, workdir = tmp_path / "no-home", tmp_path / "workdir"
    workdir.mkdir()
    installed = _tree(venv)
    run_env = {
        **_dockerfile_env(),
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "KUBECONFIG": str(cluster.operator_kubeconfig),
        "AWS_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "EKS_OIDC_LIVENESS_PORT": str(port),
        "EKS_OIDC_METRICS_PORT": "0",
    }
    log = tmp_path / "operator.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["eks-oidc-operator", "run", "--all-namespaces"],
            env=run_env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status is None:
            assert process.poll() is None, log.read_text()
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=1) as response:
                    status = response.status
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        assert status == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert _tree(venv) == installed, "the operator wrote into its installation"
    assert not home.exists()
    assert list(workdir.iterdir()) == []
