"""The release pipeline, run here (``hack/release/local.sh``) against a registry of its own.

What it publishes verifies with the run's key, the SBOM is the image's own environment, a
version is never published twice, and a step that fails stops the run naming that step and
leaves nothing half-published (the manifests it had pushed are gone). The workflows themselves
are checked by actionlint, and a broken one is refused.

The image is the one ``make image`` built (``make test`` builds it before the tests).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from eks_oidc_testing.docker import daemon_problem, docker_env
from eks_oidc_testing.kube import unique_name
from eks_oidc_testing.paths import REPO

pytestmark = [pytest.mark.docker, pytest.mark.timeout(600)]

LOCAL = REPO / "hack" / "release" / "local.sh"
REGISTRY = REPO / "hack" / "release" / "registry.sh"
COSIGN = REPO / ".local" / "bin" / "cosign"
WORKFLOWS = REPO / ".github" / "workflows"


def _env(name: str, out: Path, **extra: str) -> dict[str, str]:
    return {**docker_env(), "RELEASE_REGISTRY_NAME": name, "RELEASE_OUT": str(out), **extra}


def _registry_down(name: str) -> None:
    """Stop the registry container ``name`` (what it stored goes with it)."""
    subprocess.run(
        ["bash", str(REGISTRY), "down"],
        env={**docker_env(), "RELEASE_REGISTRY_NAME": name},
        check=False,
        capture_output=True,
    )


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LOCAL)], env=env, capture_output=True, text=True, timeout=540, check=False
    )


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    """A registry container of this module's own; stopped (and its content gone) after."""
    problem = daemon_problem()
    if problem:
        pytest.fail(problem)
    name = unique_name("eks-oidc-registry-test")
    try:
        yield name
    finally:
        _registry_down(name)


@pytest.fixture(scope="module")
def released(registry: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("release")
    result = _run(_env(registry, out))
    assert result.returncode == 0, result.stdout + result.stderr
    env = dict(
        line.split("=", 1) for line in (out / "release.env").read_text().splitlines() if line
    )
    return {**env, "OUT": str(out)}


def _manifest_exists(reference: str) -> bool:
    """Whether ``host:port/repo@digest`` is in the registry."""
    host, _, rest = reference.partition("/")
    name, _, digest = rest.partition("@")
    request = urllib.request.Request(
        f"http://{host}/v2/{name}/manifests/{digest}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10):
            return True
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise


def _cosign(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COSIGN), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_what_the_pipeline_publishes_verifies_and_the_sbom_is_the_images(
    released: dict[str, str],
) -> None:
    image = f"{released['IMAGE_REPOSITORY']}@{released['IMAGE_DIGEST']}"
    chart = f"{released['CHART'].removeprefix('oci://')}@{released['CHART_DIGEST']}"
    assert _manifest_exists(image)
    assert _manifest_exists(chart)
    chart_meta = yaml.safe_load((REPO / "charts/eks-oidc-operator/Chart.yaml").read_text())
    assert released["VERSION"] == chart_meta["version"]
    flags = ["--insecure-ignore-tlog", "--allow-http-registry", "--allow-insecure-registry"]
    for reference in (image, chart):
        verified = _cosign("verify", "--key", released["PUBLIC_KEY"], *flags, reference)
        assert verified.returncode == 0, verified.stderr
    attested = _cosign(
        "verify-attestation", "--key", released["PUBLIC_KEY"], *flags, "--type", "cyclonedx", image
    )
    assert attested.returncode == 0, attested.stderr
    # The attestation carries the SBOM: the image's environment, not the tool that made it.
    envelope = json.loads(attested.stdout.splitlines()[0])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    names = {c["name"] for c in statement["predicate"]["components"]}
    assert {"eks-oidc-operator", "kopf", "boto3", "aiohttp", "pydantic"} <= names
    assert not names & {"cyclonedx-bom", "cyclonedx-python-lib", "pytest", "mypy"}
    # A key that did not sign does not verify.
    other = Path(released["OUT"]) / "other.pub"
    refused = _cosign("verify", "--key", str(other), *flags, image)
    assert refused.returncode != 0


def test_a_version_is_never_published_twice(
    released: dict[str, str], registry: str, tmp_path: Path
) -> None:
    again = _run(_env(registry, tmp_path))
    assert again.returncode != 0
    assert "step 'registry' failed" in again.stderr
    assert f"version {released['VERSION']} is published already" in again.stderr
    assert "move the version" in again.stderr


def test_a_signature_that_does_not_verify_stops_and_unpublishes(tmp_path: Path) -> None:
    # cosign that signs but whose verification fails, as a tampered signature would.
    fake = tmp_path / "cosign"
    fake.write_text(
        f'#!/bin/sh\nif [ "$1" = verify ]; then echo "no matching signatures" >&2; exit 1; fi\n'
        f'exec "{COSIGN}" "$@"\n'
    )
    fake.chmod(0o755)
    name = unique_name("eks-oidc-registry-test")
    out = tmp_path / "out"
    try:
        result = _run(_env(name, out, COSIGN=str(fake)))
        assert result.returncode != 0
        assert "step 'verify' failed" in result.stderr
        assert "do not publish" in result.stderr
        assert "nothing half-published" in result.stderr
        pushed = next(
            line.split()[1] for line in result.stdout.splitlines() if line.startswith("image ")
        )
        tagged, digest = pushed.split("@")
        assert tagged.startswith("127.0.0.1:")
        assert not _manifest_exists(f"{tagged.rsplit(':', 1)[0]}@{digest}")
        assert not (out / "release.env").exists()
    finally:
        _registry_down(name)


@pytest.mark.parametrize("broken", [False, True])
def test_actionlint_checks_the_workflows_and_refuses_a_broken_one(
    broken: bool, tmp_path: Path
) -> None:
    actionlint = REPO / ".local" / "bin" / "actionlint"
    subprocess.run(["bash", str(REPO / "hack/release/tools.sh"), "actionlint"], check=True)
    files = sorted(WORKFLOWS.glob("*.yaml"))
    assert {f.name for f in files} >= {"ci.yaml", "release.yaml"}
    if broken:
        bad = tmp_path / "bad.yaml"
        text = (WORKFLOWS / "release.yaml").read_text()
        bad.write_text(
            text.replace("${{ steps.image.outputs.digest }}", "${{ steps.nope.digest }}")
        )
        files = [bad]
    result = subprocess.run(
        [str(actionlint), *map(str, files)], capture_output=True, text=True, check=False
    )
    assert (result.returncode != 0) == broken, result.stdout


def test_the_release_workflow_publishes_what_release_local_does() -> None:
    release = yaml.safe_load((WORKFLOWS / "release.yaml").read_text())
    steps = release["jobs"]["publish"]["steps"]
    text = json.dumps(steps)
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action"))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    for needed in (
        "cosign sign --yes",
        "cosign attest --yes --type cyclonedx",
        "helm push",
        "hack/release/sbom.sh",
        "cosign verify",
        "verify-attestation",
    ):
        assert needed in text, needed
    assert release["jobs"]["publish"]["needs"] == "test"
    assert release["jobs"]["publish"]["permissions"]["id-token"] == "write"
    ci = yaml.safe_load((WORKFLOWS / "ci.yaml").read_text())
    assert "bash .ci/run" in json.dumps(ci["jobs"]["test"]["steps"])
    assert os.access(LOCAL, os.R_OK)
