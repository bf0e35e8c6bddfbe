"""``DEMO_ONESHOT=1 make demo`` works from this checkout: the README's first command."""

from __future__ import annotations

import os
import subprocess

import pytest

from eks_oidc_testing.paths import REPO

pytestmark = pytest.mark.e2e


def test_the_demo_brings_every_example_to_its_expected_state() -> None:
    env = {**os.environ, "DEMO_ONESHOT": "1"}
    env.pop("DEMO_EXAMPLES", None)
    result = subprocess.run(
        ["make", "--no-print-directory", "demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "every example reached its expected state" in out
    # The live view showed the lifecycle and the refusal, in EKS's words.
    assert "Associating" in out
    assert "Active" in out
    assert "event Warning UpdateFailedUnknown" in out
    assert "Unable to fetch the OpenID configuration" in out
    assert not (REPO / ".local" / "demo" / "controlplane.json").exists()  # cleaned up
