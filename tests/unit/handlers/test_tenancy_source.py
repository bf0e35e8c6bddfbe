"""The tenancy policy file: read when it changes, and nothing permitted when it is broken."""

from __future__ import annotations

from pathlib import Path

from eks_oidc_operator.handlers.tenancy_source import PolicySource
from eks_oidc_operator.models.tenancy import DEFAULT_POLICY, TenancyPolicy


def test_no_file_means_the_default_policy() -> None:
    assert PolicySource(None).current() == DEFAULT_POLICY


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "tenancy.yaml"
    path.write_text("rules:\n  - {name: a, namespaces: [team-a], operatorIdentity: true}\n")
    source = PolicySource(str(path))
    first = source.current()
    assert isinstance(first, TenancyPolicy)
    assert [r.name for r in first.rules] == ["a"]
    replacement = tmp_path / "new.yaml"
    replacement.write_text("rules:\n  - {name: b, namespaces: ['*'], roleArns: ['x*']}\n")
    replacement.replace(path)  # as kubelet swaps a ConfigMap's files
    second = source.current()
    assert isinstance(second, TenancyPolicy)
    assert [r.name for r in second.rules] == ["b"]


def test_a_broken_or_missing_file_permits_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tenancy.yaml"
    path.write_text("rules: [{name: a}]\n")
    broken = PolicySource(str(path)).current()
    assert isinstance(broken, str)
    assert "invalid" in broken
    missing = PolicySource(str(tmp_path / "nope.yaml")).current()
    assert isinstance(missing, str)
    assert "cannot be read" in missing
