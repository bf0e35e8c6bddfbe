"""docker against the project's own daemon (``hack/docker/dockerd.sh``), for the image tests and
the kind tier: ``DOCKER_HOST`` when the caller set one, else the checkout's ``.local/docker.sock``
(the Makefile and ``hack/lib/docker.sh`` choose the same way)."""

from __future__ import annotations

import os
import shutil
import subprocess

from eks_oidc_testing.paths import REPO


def docker_host() -> str:
    """The daemon every docker call of the tests goes to."""
    return os.environ.get("DOCKER_HOST") or f"unix://{REPO / '.local' / 'docker.sock'}"


def docker_env() -> dict[str, str]:
    """This process's environment with that daemon, and the legacy builder its version has."""
    return {**os.environ, "DOCKER_HOST": docker_host(), "DOCKER_BUILDKIT": "0"}


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``docker ...`` against that daemon; the caller reads the outcome."""
    return subprocess.run(
        ["docker", *args],
        env=docker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def daemon_problem() -> str | None:
    """What keeps the daemon from answering, in words that say how to fix it; None if it does."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH: `make docker-up` installs Debian's docker.io"
    try:
        answer = docker("version", "--format", "{{.Server.Version}}", timeout=20)
    except subprocess.TimeoutExpired:
        return f"the Docker daemon at {docker_host()} gave no answer within 20 s"
    if answer.returncode != 0:
        return (
            f"the Docker daemon at {docker_host()} does not answer ({answer.stderr.strip()}): "
            "start the project's with `make docker-up`"
        )
    return None
