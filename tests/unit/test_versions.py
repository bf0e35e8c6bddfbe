"""One version for the chart, the app, the Python package and the CHANGELOG's newest entry."""

from __future__ import annotations

import re
import tomllib

import yaml

import eks_oidc_operator
from eks_oidc_testing.paths import REPO

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")


def test_chart_app_package_and_changelog_name_one_semantic_version() -> None:
    chart = yaml.safe_load((REPO / "charts/eks-oidc-operator/Chart.yaml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    versions = {
        "Chart.yaml version": chart["version"],
        "Chart.yaml appVersion": chart["appVersion"],
        "pyproject.toml": project["version"],
        "eks_oidc_operator.__version__": eks_oidc_operator.__version__,
    }
    assert len(set(versions.values())) == 1, versions
    version = chart["version"]
    assert SEMVER.match(version), version
    newest = re.search(r"^## (\S+)", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert newest is not None, "CHANGELOG.md has no version entry"
    assert newest.group(1) == version, "the newest CHANGELOG entry must be the version released"


def test_every_changelog_entry_has_upgrade_notes() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    entries = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    assert entries
    for entry in entries:
        assert "### Upgrading" in entry, entry.splitlines()[0]
