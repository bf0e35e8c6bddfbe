"""Settings come from EKS_OIDC_* variables and reach the decision code; the CLI is strict."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eks_oidc_operator.__main__ import main, render_crd
from eks_oidc_operator.settings import OperatorSettings


def test_settings_are_read_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EKS_OIDC_POLL_MAX_SECONDS", "12")
    monkeypatch.setenv("EKS_OIDC_DEFAULT_REGION", "eu-west-1")
    settings = OperatorSettings()
    assert settings.poll_max_seconds == 12
    assert settings.default_region == "eu-west-1"
    timings = settings.timings()
    assert timings.poll_max == 12
    assert timings.poll_initial == settings.poll_initial_seconds


def test_bad_settings_are_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EKS_OIDC_JITTER", "3")
    with pytest.raises(ValidationError, match="jitter"):
        OperatorSettings()


def test_run_needs_a_scope(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run"])
    assert exited.value.code == 2
    assert "--namespace" in capsys.readouterr().err


def test_crd_subcommand_prints_the_generated_crd(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crd"]) == 0
    assert capsys.readouterr().out == render_crd()


def test_version_says_which_build_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from eks_oidc_operator import __version__

    monkeypatch.setenv("EKS_OIDC_OPERATOR_REVISION", "0123abcd")
    assert main(["version"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"eks-oidc-operator {__version__} (revision 0123abcd; Python ")
    assert "kopf 1." in said
    monkeypatch.delenv("EKS_OIDC_OPERATOR_REVISION")
    assert main(["version"]) == 0
    assert "(revision unknown;" in capsys.readouterr().out
    # A revision in the environment is not a setting (the settings refuse unknown fields).
    monkeypatch.setenv("EKS_OIDC_OPERATOR_REVISION", "0123abcd")
    assert OperatorSettings().issuer_check is not None
