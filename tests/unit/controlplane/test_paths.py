"""The local stack finds its checkout by a marker file, from wherever it is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from eks_oidc_testing import paths


def test_the_installed_package_points_at_this_checkout() -> None:
    this_checkout = Path(__file__).resolve().parents[3]
    assert this_checkout == paths.REPO
    assert paths.CRD_FILE.is_file()
    assert paths.CHART.is_dir()


def test_the_nearest_checkout_above_the_first_start_that_has_one_wins(tmp_path: Path) -> None:
    checkout = tmp_path / "clone"
    (checkout / paths.MARKER).parent.mkdir(parents=True)
    (checkout / paths.MARKER).write_text("")
    deep = checkout / "a" / "b"
    deep.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert paths.find_repo(elsewhere, deep) == checkout
    assert paths.find_repo(deep, Path(__file__)) == checkout


def test_outside_any_checkout_the_error_says_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(paths.CheckoutNotFoundError, match=r"hack/controlplane/build\.sh"):
        paths.find_repo(tmp_path)
