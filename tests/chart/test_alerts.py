"""The chart's alerts, run by ``promtool test rules`` on series modelled on real EKS: an
association takes 15-40 minutes, then EKS refuses it; the alerts must fire within 30 minutes of
the refusal, whether the operator retries the code or not, and only for their own release."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from eks_oidc_testing import controlplane

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "eks-oidc-operator"
RELEASE, NAMESPACE = "oidc", "platform"
JOB = f"{RELEASE}-eks-oidc-operator-metrics"
REFUSED_AT = 25
"""Minutes into the association when EKS refuses it (real associations take 15-40)."""
DEADLINE = REFUSED_AT + 30
"""Every alert on the refusal fires by then."""


def _rules(tmp_path: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The chart's alerting rules as promtool reads them, and each rule by its alert."""
    rendered = subprocess.run(
        [
            str(controlplane.bin_dir() / "helm"),
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            NAMESPACE,
            "--set",
            "metrics.prometheusRule.enabled=true",
            "--show-only",
            "templates/prometheusrule.yaml",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    groups = yaml.safe_load(rendered)["spec"]["groups"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}))
    return path, {rule["alert"]: rule for group in groups for rule in group["rules"]}


def _series(metric: str, values: str, job: str = JOB, **labels: str) -> dict[str, str]:
    matchers = ",".join(
        f'{k}="{v}"' for k, v in {"job": job, "namespace": NAMESPACE, **labels}.items()
    )
    return {"series": f"{metric}{{{matchers}}}", "values": values}


def _minutes(before: int, value: int, total: int = 180) -> str:
    """``0`` for the ``before`` minutes up to the refusal's pass, then ``value`` to the end."""
    return f"0x{before} {value}x{total - before}"


def _fired(rule: dict[str, Any], value: int = 1) -> dict[str, Any]:
    """The alert as promtool reports it for this release's series."""
    annotations = {
        key: text.replace("{{ $value }}", str(value)) for key, text in rule["annotations"].items()
    }
    labels = {"job": JOB, "namespace": NAMESPACE, **rule["labels"]}
    return {"exp_labels": labels, "exp_annotations": annotations}


def _promtool(tmp_path: Path, rules: Path, tests: list[dict[str, Any]]) -> None:
    spec = tmp_path / "tests.yaml"
    spec.write_text(
        yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": tests})
    )
    done = subprocess.run(
        [str(controlplane.bin_dir() / "promtool"), "test", "rules", str(spec)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def promtool() -> None:
    if not (controlplane.bin_dir() / "promtool").exists():
        pytest.fail("promtool is missing: run `make controlplane`")


@pytest.mark.usefixtures("promtool")
def test_a_refusal_no_retry_can_fix_alerts_within_thirty_minutes(tmp_path: Path) -> None:
    """The object is Stalled from the pass that sees the refusal (within a poll)."""
    rules, by_alert = _rules(tmp_path)
    seen = REFUSED_AT + 1
    stalled = _series(
        "eks_oidc_object_conditions", _minutes(seen, 1), type="Stalled", status="True"
    )
    failing = _series("eks_oidc_objects_failing", _minutes(seen, 1))
    alive = _series("eks_oidc_build_info", "1x180", version="0.2.0")
    _promtool(
        tmp_path,
        rules,
        [
            {
                "interval": "1m",
                "input_series": [stalled, failing, alive],
                "alert_rule_test": [
                    # Not on a blip: only once the refusal has stood for a while...
                    {
                        "eval_time": f"{seen + 5}m",
                        "alertname": "EksOidcObjectsStalled",
                        "exp_alerts": [],
                    },
                    # ... and by the deadline, both.
                    {
                        "eval_time": f"{DEADLINE}m",
                        "alertname": "EksOidcObjectsStalled",
                        "exp_alerts": [_fired(by_alert["EksOidcObjectsStalled"])],
                    },
                    {
                        "eval_time": f"{DEADLINE}m",
                        "alertname": "EksOidcUpdatesFailing",
                        "exp_alerts": [_fired(by_alert["EksOidcUpdatesFailing"])],
                    },
                    {
                        "eval_time": f"{DEADLINE}m",
                        "alertname": "EksOidcOperatorAbsent",
                        "exp_alerts": [],
                    },
                ],
            }
        ],
    )


@pytest.mark.usefixtures("promtool")
def test_a_refusal_retried_automatically_alerts_without_waiting_for_the_retries(
    tmp_path: Path,
) -> None:
    """Each automatic retry is a new association of 15-40 minutes: three take hours. The object
    reports progress meanwhile (not Stalled), and the failing gauge stays up throughout."""
    rules, by_alert = _rules(tmp_path)
    seen = REFUSED_AT + 1
    failing = _series("eks_oidc_objects_failing", _minutes(seen, 1))
    not_stalled = _series("eks_oidc_object_conditions", "0x180", type="Stalled", status="True")
    _promtool(
        tmp_path,
        rules,
        [
            {
                "interval": "1m",
                "input_series": [failing, not_stalled],
                "alert_rule_test": [
                    {
                        "eval_time": f"{DEADLINE}m",
                        "alertname": "EksOidcUpdatesFailing",
                        "exp_alerts": [_fired(by_alert["EksOidcUpdatesFailing"])],
                    },
                    {
                        "eval_time": f"{DEADLINE}m",
                        "alertname": "EksOidcObjectsStalled",
                        "exp_alerts": [],
                    },
                    # Still firing hours later, through the retries: it does not flap.
                    {
                        "eval_time": "170m",
                        "alertname": "EksOidcUpdatesFailing",
                        "exp_alerts": [_fired(by_alert["EksOidcUpdatesFailing"])],
                    },
                ],
            }
        ],
    )


@pytest.mark.usefixtures("promtool")
def test_alerts_answer_only_for_their_own_release(tmp_path: Path) -> None:
    """Series of another job, or of another namespace, never fire this release's alerts."""
    rules, _ = _rules(tmp_path)
    other_job = _series(
        "eks_oidc_object_conditions", "1x180", job="other-metrics", type="Stalled", status="True"
    )
    other_failing = _series("eks_oidc_objects_failing", "1x180", job="other-metrics")
    elsewhere = {
        "series": (
            f'eks_oidc_object_conditions{{job="{JOB}",namespace="elsewhere",'
            'type="Stalled",status="True"}'
        ),
        "values": "1x180",
    }
    _promtool(
        tmp_path,
        rules,
        [
            {
                "interval": "1m",
                "input_series": [other_job, other_failing, elsewhere],
                "alert_rule_test": [
                    {"eval_time": "120m", "alertname": "EksOidcObjectsStalled", "exp_alerts": []},
                    {"eval_time": "120m", "alertname": "EksOidcUpdatesFailing", "exp_alerts": []},
                ],
            }
        ],
    )
