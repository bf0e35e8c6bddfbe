"""The operator's image, built by ``hack/image/build.sh`` into the project's Docker daemon.

The Dockerfile's text is checked first (cheap: no daemon). The image itself is then run: its
entry points answer ``--help`` on a read-only root filesystem as uid 10001, it holds no trust
of the build's proxy and no development tooling, and -- against the local control plane,
under the chart's RBAC -- the operator in it answers its liveness probe.

The image is built once per module (docker's layer cache makes a rebuild of unchanged sources
cost seconds), or taken from ``EKS_OIDC_IMAGE`` if set. No daemon is a failure, never a skip:
``make docker-up`` starts it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from eks_oidc_testing.docker import daemon_problem, docker, docker_env
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.paths import REPO
from eks_oidc_testing.ports import free_port

# The first test that needs the image builds it (a cold build takes minutes on two cores).
pytestmark = pytest.mark.timeout(1200)

DOCKERFILE = (REPO / "Dockerfile").read_text()
_PREAMBLE, BUILD_STAGE, RUNTIME_STAGE = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)
BUILD_SCRIPT = REPO / "hack" / "image" / "build.sh"
BUILD_STAGE_TAG = "eks-oidc-operator-build:cache"
"""build.sh keeps the build stage under this tag (its layer cache)."""
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
UID = "10001"
SIZE_BUDGET = 300 * 2**20
"""What the image may weigh (docs/image.md says what it holds and why)."""


# --------------------------------------------------------------------- the Dockerfile's text


def _copied_paths() -> list[str]:
    """Sources of the build stage's COPY lines (``COPY a b ./`` -> a, b)."""
    return [
        path
        for line in BUILD_STAGE.splitlines()
        if line.startswith("COPY ")
        for path in line.split()[1:-1]
    ]


def test_the_dockerfile_builds_in_two_stages_on_one_base_and_runs_as_uid_10001() -> None:
    assert BUILD_STAGE.startswith("${PYTHON_IMAGE} AS build\n")
    assert RUNTIME_STAGE.startswith("${PYTHON_IMAGE}\n")  # the venv links to this Python
    assert "RUN sh hack/image-install.sh /opt/venv" in BUILD_STAGE
    # Only the virtualenv crosses over: no uv, no sources, no build-stage trust.
    copies = re.findall(r"^COPY .*", RUNTIME_STAGE, re.MULTILINE)
    assert copies == ["COPY --from=build /opt/venv /opt/venv"]
    assert "--uid 10001 --gid 10001" in RUNTIME_STAGE
    assert "\nUSER 10001\n" in RUNTIME_STAGE
    assert '\nENTRYPOINT ["eks-oidc-operator"]\n' in RUNTIME_STAGE
    assert '\nCMD ["run", "--all-namespaces"]\n' in RUNTIME_STAGE


def test_proxy_trust_lives_in_the_build_stage_only() -> None:
    for word in ("EXTRA_CA_CERTS", "PIP_CERT", "SSL_CERT_FILE", "build-ca-bundle"):
        assert word in BUILD_STAGE
        assert word not in RUNTIME_STAGE, f"{word} in the runtime stage"
    assert "EXTRA_CA_CERTS" not in _PREAMBLE  # a global ARG would be visible to both stages


def test_the_dockerfile_needs_no_buildkit() -> None:
    # The project's daemon is Debian's docker.io 20.10 with the legacy builder.
    instructions = [line for line in DOCKERFILE.splitlines() if not line.startswith("#")]
    for feature in ("--chmod", "--mount", "<<"):
        assert not [line for line in instructions if feature in line], feature


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line for line in ignore if line and not line.startswith("#")]
    assert patterns[0] == "*"  # everything out, then what the Dockerfile copies back in
    for path in _copied_paths():
        assert (REPO / path).exists(), path
        assert f"!{path}" in patterns, f".dockerignore leaves {path} out of the build context"


def test_the_image_uses_the_uv_the_tests_use() -> None:
    # uv.lock is read by the uv version that wrote it: the dev environment's pin.
    docker_pin = re.findall(r'"uv==([^"]+)"', DOCKERFILE)
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    dev_pin = [entry.removeprefix("uv==") for entry in dev if entry.startswith("uv==")]
    assert docker_pin == dev_pin
    assert len(docker_pin) == 1


# ---------------------------------------------------------------------------- the daemon


def _docker(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``docker ...`` against the project's daemon; a failure (``check``) fails the test."""
    result = docker(*args, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(
            f"docker {' '.join(args[:3])} ... failed ({result.returncode}):\n{result.stderr}"
        )
    return result


def _require_daemon() -> None:
    problem = daemon_problem()
    if problem is not None:
        pytest.fail(problem)


@pytest.fixture(scope="module")
def image() -> str:
    """The operator image: EKS_OIDC_IMAGE, else the one hack/image/build.sh builds."""
    _require_daemon()
    given = os.environ.get("EKS_OIDC_IMAGE")
    if given:
        if _docker("image", "inspect", given, check=False).returncode != 0:
            pytest.fail(f"EKS_OIDC_IMAGE={given} is not an image of the project's daemon")
        return given
    tag = os.environ.get("IMAGE") or "eks-oidc-operator:dev"
    build = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        env={**docker_env(), "IMAGE": tag},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    if build.returncode != 0:
        output = (build.stdout + build.stderr)[-4000:]
        pytest.fail(f"hack/image/build.sh failed ({build.returncode}):\n{output}")
    return tag


@dataclass(frozen=True)
class Contents:
    """Everything the image's layers and metadata hold, as far as these tests ask."""

    paths: frozenset[str]
    """Every path in any layer (a file a later layer deletes included), and of the archive."""
    with_extra_ca: tuple[str, ...]
    """Files of the layers, or of the metadata, holding a line of an extra CA certificate."""


def _extra_ca_lines() -> list[bytes]:
    """One base64 line from the middle of each extra CA certificate: text no other file has."""
    lines: list[bytes] = []
    for cert in sorted(EXTRA_CA_DIR.glob("*.crt")):
        blocks = re.findall(
            r"-----BEGIN CERTIFICATE-----\n(.*?)-----END CERTIFICATE-----",
            cert.read_text(),
            re.DOTALL,
        )
        for block in blocks:
            body = block.split()
            lines.append(body[len(body) // 2].encode())
    return lines


def _scan(archive: tarfile.TarFile, needles: list[bytes], paths: set[str]) -> list[str]:
    """Add the paths of ``archive`` to ``paths``; the files holding one of ``needles``."""
    hits: list[str] = []
    for member in archive:
        paths.add(member.name.removeprefix("./"))
        stream = archive.extractfile(member) if member.isfile() else None
        if stream is None:
            continue
        if member.name.endswith("/layer.tar"):  # a layer of `docker save`: look inside
            with tarfile.open(fileobj=stream) as layer:
                hits += [f"{member.name}:{hit}" for hit in _scan(layer, needles, paths)]
        elif needles and any(needle in stream.read() for needle in needles):
            hits.append(member.name)
    return hits


@pytest.fixture(scope="module")
def contents(image: str, tmp_path_factory: pytest.TempPathFactory) -> Contents:
    """The image's layers and metadata (its config: history, labels) as ``docker save``
    writes them, scanned once."""
    saved = tmp_path_factory.mktemp("image") / "image.tar"
    _docker("save", "-o", str(saved), image, timeout=300)
    paths: set[str] = set()
    try:
        with tarfile.open(saved) as archive:
            hits = _scan(archive, _extra_ca_lines(), paths)
    finally:
        saved.unlink()
    return Contents(frozenset(paths), tuple(hits))


# ------------------------------------------------------------------------------ the image


@pytest.mark.docker
def test_both_entry_points_run_read_only_as_uid_10001(image: str) -> None:
    sandbox = ("--rm", "--network", "none", "--read-only", "--user", UID)
    operator = _docker("run", *sandbox, image, "--help", check=False)
    assert operator.returncode == 0, operator.stderr
    assert "usage: eks-oidc-operator" in operator.stdout
    simulator = _docker(
        "run", *sandbox, "--entrypoint", "eks-simulator", image, "--help", check=False
    )
    assert simulator.returncode == 0, simulator.stderr
    assert "usage: eks-simulator" in simulator.stdout


@pytest.mark.docker
def test_the_image_says_which_build_it_is(image: str) -> None:
    # `version`, the OCI labels and the build_info metric name the same commit.
    said = _docker("run", "--rm", "--network", "none", image, "version").stdout
    labels = json.loads(_docker("image", "inspect", "-f", "{{json .Config.Labels}}", image).stdout)
    revision = labels["org.opencontainers.image.revision"]
    assert revision not in ("", "unknown")
    assert f"(revision {revision};" in said
    assert said.startswith(f"eks-oidc-operator {labels['org.opencontainers.image.version']} ")


@pytest.mark.docker
def test_the_image_runs_as_uid_10001_by_itself(image: str) -> None:
    config = json.loads(_docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
    assert config["User"] == UID
    ids = _docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", "id -u; id -g"
    ).stdout.split()
    assert ids == [UID, UID]  # a group of its own, not root's


@pytest.mark.docker
def test_the_image_holds_no_trust_of_the_build_proxy(image: str, contents: Contents) -> None:
    needles = _extra_ca_lines()
    assert "build-ca-bundle.pem" not in contents.paths
    assert "etc/ssl/certs/ca-certificates.crt" in contents.paths  # the scan saw the bundle
    assert contents.with_extra_ca == ()
    history = _docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    assert "EXTRA_CA_CERTS" not in history
    assert not [needle for needle in needles if needle.decode() in history]
    # The check can see the certificates where they are: the build stage build.sh tagged got
    # them as its build argument (absent when EKS_OIDC_IMAGE names an image built elsewhere).
    build_stage = _docker(
        "history", "--no-trunc", "--format", "{{.CreatedBy}}", BUILD_STAGE_TAG, check=False
    )
    if needles and build_stage.returncode == 0:
        assert all(needle.decode() in build_stage.stdout for needle in needles)


@pytest.mark.docker
def test_the_image_holds_no_development_tooling(contents: Contents) -> None:
    assert "opt/venv/bin/eks-oidc-operator" in contents.paths
    assert "opt/venv/bin/eks-simulator" in contents.paths
    site = re.compile(r"^opt/venv/lib/python3\.\d+/site-packages/([^/]+)")
    packages = {match[1] for path in contents.paths if (match := site.match(path))}
    assert "eks_oidc_operator" in packages
    unwanted = re.compile(r"^(_?pytest|uv|mypy|ruff|eks_oidc_testing)([-_.].*)?$")
    assert not sorted(name for name in packages if unwanted.match(name))
    binaries = {Path(path).name for path in contents.paths if re.search(r"(^|/)s?bin/", path)}
    assert not binaries & {"uv", "uvx", "pytest", "mypy", "ruff"}
    assert not [path for path in contents.paths if path.startswith("src/")]  # no sources


@pytest.mark.docker
def test_the_image_stays_within_its_size_budget(
    image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    size = int(_docker("image", "inspect", "-f", "{{.Size}}", image).stdout)
    layers = _docker(
        "history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", image
    ).stdout.splitlines()
    largest = sorted((line.split("\t", 1) for line in layers), key=lambda p: -int(p[0]))[:3]
    with capsys.disabled():
        print(f"\n{image}: {size / 2**20:.0f} MiB; largest layers:")
        for bytes_, created in largest:
            created = created.removeprefix("/bin/sh -c ").removeprefix("#(nop) ")
            print(f"  {int(bytes_) / 2**20:6.1f} MiB  {created[:90] or '(the base)'}")
    assert size < SIZE_BUDGET, f"{size / 2**20:.0f} MiB; the budget is {SIZE_BUDGET >> 20} MiB"


@pytest.mark.e2e
@pytest.mark.docker
def test_the_image_answers_its_liveness_probe_against_the_control_plane(
    cluster: Cluster, chart_rbac: str, crd_installed: None, image: str, tmp_path: Path
) -> None:
    # The operator's kubeconfig, readable by uid 10001 (the original is its owner's only).
    kubeconfig = tmp_path / "kubeconfig"
    shutil.copy(cluster.operator_kubeconfig, kubeconfig)
    kubeconfig.chmod(0o644)
    port = free_port()
    name = unique_name("eks-oidc-image")
    env = {
        "KUBECONFIG": "/etc/eks-oidc/kubeconfig",
        "AWS_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "EKS_OIDC_LIVENESS_PORT": str(port),
        "EKS_OIDC_METRICS_PORT": "0",
    }
    run = [
        *("run", "--detach", "--name", name, "--network", "host"),
        *("--read-only", "--user", UID, "--tmpfs", "/tmp"),
        *("--volume", f"{kubeconfig}:/etc/eks-oidc/kubeconfig:ro"),
        *(arg for key, value in env.items() for arg in ("--env", f"{key}={value}")),
        image,  # the image's own CMD: run --all-namespaces
    ]
    try:
        _docker(*run)
        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status is None:
            state = _docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
            if state != "true":
                logs = _docker("logs", name, check=False)
                pytest.fail(f"the container stopped:\n{(logs.stdout + logs.stderr)[-4000:]}")
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=1) as response:
                    status = response.status
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        logs = _docker("logs", name, check=False)
        assert status == 200, (logs.stdout + logs.stderr)[-4000:]
    finally:
        _docker("rm", "-f", name, check=False)
