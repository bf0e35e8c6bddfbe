"""Every generated doc is exactly what its generator writes (``make docs`` rewrites them all)."""

from __future__ import annotations

import runpy
import subprocess
import sys

import pytest

from eks_oidc_testing.paths import REPO


@pytest.mark.parametrize(
    "generator",
    [
        "errors_doc.py",  # docs/errors.md: the error table, from reconcile/error_policy.py
        "chart_readme.py",  # the chart README's values table, from values.yaml
    ],
)
def test_the_committed_doc_is_the_generated_one(generator: str) -> None:
    check = subprocess.run(
        [sys.executable, str(REPO / "hack" / generator), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_check_fails_on_a_stale_error_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--check`` sees a change: the table is rewritten, the prose around it is kept."""
    # A script, not a module of any package: loaded by path (its `main` does not run), with
    # its directory importable as when it runs.
    monkeypatch.syspath_prepend(str(REPO / "hack"))
    rendered = runpy.run_path(str(REPO / "hack" / "errors_doc.py"))["rendered"]
    current = (REPO / "docs" / "errors.md").read_text()
    stale = current.replace("| API call |", "| API  call |", 1)
    assert stale != current
    assert rendered(stale) == current
