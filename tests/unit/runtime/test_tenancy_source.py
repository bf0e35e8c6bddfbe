"""The tenancy policy file: read when it changes; a broken one is the admin's to see, and the
last valid policy stays in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eks_oidc_operator.models.tenancy import DEFAULT_POLICY, TenancyPolicy
from eks_oidc_operator.runtime.tenancy_source import NO_VALID_POLICY, PolicyReport, PolicySource


def test_no_file_means_the_default_policy_which_permits_nothing() -> None:
    assert PolicySource(None).current() == DEFAULT_POLICY
    assert DEFAULT_POLICY.rules == ()


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


def test_a_broken_or_missing_file_first_permits_nothing_and_says_nothing_of_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tenancy.yaml"
    path.write_text("rules: [{name: a, roleArns: ['arn:aws:iam::1:role/secret']}]\n")
    broken = PolicySource(str(path)).current()
    assert broken == NO_VALID_POLICY
    assert "secret" not in broken
    missing = PolicySource(str(tmp_path / "nope.yaml")).current()
    assert missing == NO_VALID_POLICY


def test_a_typo_keeps_the_last_valid_policy_and_is_told_to_the_admin_once(
    tmp_path: Path,
) -> None:
    # A typo in the policy used to flip every object fleet-wide to NotPermitted, with the
    # validation error (other teams' role ARNs and external ids) in every object's status.
    path = tmp_path / "tenancy.yaml"
    path.write_text("rules:\n  - {name: a, namespaces: [team-a], operatorIdentity: true}\n")
    told: list[PolicyReport] = []
    source = PolicySource(str(path), report=told.append)
    good = source.current()
    assert isinstance(good, TenancyPolicy)
    typo = tmp_path / "new.yaml"
    typo.write_text("rules:\n  - {name: a, namespaces: [team-a], externalld: 'team-a-7f3c'}\n")
    typo.replace(path)
    assert source.current() == good
    assert source.current() == good  # looked at again: told once, not at every pass
    assert [(r.valid, r.kept) for r in told] == [(True, False), (False, True)]
    assert told[1].problem is not None
    assert "externalld" in told[1].problem
    path.unlink()
    assert source.current() == good
    assert told[-1].problem is not None
    assert "cannot be read" in told[-1].problem


def test_wildcard_rules_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "tenancy.yaml"
    path.write_text(
        "rules:\n"
        "  - {name: everyone, namespaces: ['*'], operatorIdentity: true}\n"
        "  - {name: any-role, namespaces: [team-a], roleArns: ['**']}\n"
        "  - {name: scoped, namespaces: [team-*], roleArns: ['arn:aws:iam::1:role/a-*']}\n"
        "  - {name: any-arn, namespaces: [team-c], roleArns: ['arn:aws*:iam::*:role/*']}\n"
    )
    told: list[PolicyReport] = []
    PolicySource(str(path), report=told.append).current()
    assert told[0].wildcards == ("everyone", "any-role", "any-arn")


def test_the_reporter_sets_the_metrics_and_posts_an_event_on_the_configmap_for_a_typo() -> None:
    from eks_oidc_operator import metrics
    from eks_oidc_operator.runtime.services import policy_reporter

    posted: list[tuple[Any, Any]] = []
    report = policy_reporter(
        "ops/eks-oidc-operator-tenancy", post=lambda b, e: posted.append((b, e))
    )
    report(PolicyReport("p", valid=True, rules=2, wildcards=("everyone",)))
    assert metrics.TENANCY_WILDCARD_RULES._value.get() == 1
    assert posted == []
    report(PolicyReport("p", valid=False, problem="is invalid: rules.0.x", kept=True))
    assert metrics.TENANCY_POLICY_VALID._value.get() == 0
    assert metrics.TENANCY_WILDCARD_RULES._value.get() == 1  # the policy in force still has it
    ((body, event),) = posted
    assert body["metadata"] == {"namespace": "ops", "name": "eks-oidc-operator-tenancy"}
    assert (event.type, event.reason) == ("Warning", "InvalidTenancyPolicy")
    assert "the last valid policy stays in force" in event.message
