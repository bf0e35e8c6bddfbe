"""The planner: what follows from a verdict mechanically (status, events, when to look again)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from eks_oidc_operator.models import OidcIdentityProvider
from eks_oidc_operator.models.eks import EksError
from eks_oidc_operator.reconcile.observation import Observation
from eks_oidc_operator.reconcile.plan import Plan
from eks_oidc_operator.reconcile.planner import plan, started
from eks_oidc_operator.reconcile.timing import Timings, poll_delay
from tests.support.factories import ARN, NOW, OTHER_ARN, config, ctx, obj, ours, update
from tests.unit.reconcile.test_rules import CASES

TIMINGS = Timings()
IN_FLIGHT = {
    "update": {"id": "u-1", "status": "InProgress", "type": "AssociateIdentityProviderConfig"},
    "configStatus": "CREATING",
    "phase": "Associating",
}


def _plan(resource: OidcIdentityProvider, *, polls: int = 0, retries: int = 0, **seen: Any) -> Plan:
    return plan(Observation(resource, **seen), ctx(polls=polls, retries=retries))


@pytest.mark.parametrize("polls", [0, 1, 2, 5])
def test_while_eks_works_the_timer_follows_the_poll_schedule(polls: int) -> None:
    result = _plan(obj(status=IN_FLIGHT), polls=polls, config=None, update=update())
    assert result.poll_after == poll_delay(polls, TIMINGS)
    assert result.polls == polls
    assert result.retry_after is None


def test_once_nothing_is_in_flight_the_poll_schedule_starts_over() -> None:
    done = _plan(obj(status=IN_FLIGHT), polls=4, config=config(), update=update("Successful"))
    assert (done.poll_after, done.polls) == (None, 0)


def test_a_started_update_starts_its_poll_schedule_from_the_first_step() -> None:
    draft = _plan(obj(), polls=7, config=None)
    result = started(Observation(obj()), ctx(polls=7), draft, update(id_="u-new"))
    assert (result.poll_after, result.polls) == (TIMINGS.poll_initial, 0)
    assert result.status.config_status == "CREATING"
    assert result.status.update is not None
    assert result.status.update.id == "u-new"


def _association_started() -> Plan:
    """The plan of the pass that associates a new object (update u-1)."""
    new = obj()
    return started(Observation(new), ctx(), _plan(new, config=None), update(id_="u-1"))


def test_a_poll_that_finds_the_update_still_running_plans_the_status_it_read() -> None:
    # The poll learns nothing new, so the handler has nothing to write: no API write and no
    # watch event per association for a message that only restates the wait.
    first = _association_started()
    written = first.status.model_dump(mode="json", by_alias=True)
    polled = _plan(obj(status=written), polls=1, config=None, update=update(id_="u-1"))
    assert polled.verdict.reason == "Associating"
    assert polled.status == first.status
    assert polled.events == ()


def test_a_poll_without_the_starting_pass_s_words_says_which_update_it_waits_for() -> None:
    # Status written by no pass of ours (a restart that lost it): the wait names the update.
    polled = _plan(obj(status=IN_FLIGHT), polls=1, config=None, update=update(id_="u-1"))
    ready = next(c for c in polled.status.conditions if c.type == "Ready")
    assert (ready.reason, ready.message) == (
        "Associating",
        "EKS update u-1 (AssociateIdentityProviderConfig) in progress",
    )


def test_a_poll_that_finds_another_update_running_than_status_records_names_it() -> None:
    first = _association_started()
    written = first.status.model_dump(mode="json", by_alias=True)
    polled = _plan(obj(status=written), polls=1, config=None, update=update(id_="u-2"))
    ready = next(c for c in polled.status.conditions if c.type == "Ready")
    assert "u-2" in ready.message
    assert polled.status != first.status


def test_a_poll_that_finds_the_update_ended_says_so() -> None:
    first = _association_started()
    written = first.status.model_dump(mode="json", by_alias=True)
    done = _plan(obj(status=written), polls=2, config=config(), update=update("Successful"))
    assert done.status != first.status
    assert done.verdict.reason == "Active"


def test_a_started_disassociation_records_the_config_deleting() -> None:
    announced = {
        "type": "Ready",
        "status": "False",
        "reason": "ReplacementOutage",
        "message": "m",
        "lastTransitionTime": "2026-11-28T12:00:00Z",
        "observedGeneration": 1,
    }
    resource = obj(
        status=ours(conditions=[announced]),
        oidc={"clientId": "new"},
        replacementPolicy="DeleteBeforeCreate",
    )
    draft = _plan(resource, config=config())
    gone = update(id_="u-del", type_="DisassociateIdentityProviderConfig")
    result = started(Observation(resource, config=config()), ctx(), draft, gone)
    assert result.status.config_status == "DELETING"
    assert result.status.identity_provider_config_arn == ARN
    # The outage was announced by the pass before; this one reports the call that starts it.
    assert [(e.reason, e.message.endswith("(EKS update u-del)")) for e in result.events] == [
        ("Replacing", True),
    ]


def test_a_started_disassociation_of_the_old_config_leaves_the_new_one_as_it_is() -> None:
    old = config()
    new = config("ACTIVE", arn=OTHER_ARN, name="corp-1", issuer_url="https://new.example.com")
    resource = obj(status=ours(), oidc={"issuerUrl": "https://new.example.com"})
    seen = Observation(resource, name="corp-1", config=new, previous=old)
    draft = _plan(resource, name="corp-1", config=new, previous=old)
    assert draft.rule == "previous_retires"
    gone = update(id_="u-del", type_="DisassociateIdentityProviderConfig")
    result = started(seen, ctx(), draft, gone)
    assert result.status.identity_provider_config_name == "corp-1"
    assert (result.status.config_status, result.status.identity_provider_config_arn) == (
        "ACTIVE",
        OTHER_ARN,
    )
    assert result.status.previous_config is not None
    assert (result.status.previous_config.name, result.status.previous_config.config_status) == (
        "corp",
        "DELETING",
    )
    assert result.status.serving_config_name == "corp-1"
    assert result.in_flight  # polled until the old config is gone


DELETIONS = {key: row for key, row in CASES.items() if row[0].metadata.deletion_timestamp}


@pytest.mark.parametrize(
    ("resource", "seen"), [row[:2] for row in DELETIONS.values()], ids=DELETIONS
)
def test_deletion_always_comes_back_until_it_releases(
    resource: OidcIdentityProvider, seen: dict[str, Any]
) -> None:
    result = _plan(resource, **seen)
    assert result.poll_after is None, "timers do not run on deleted objects"
    assert result.release or result.retry_after is not None


def test_deletion_polls_by_retrying_on_the_poll_schedule() -> None:
    deleting = obj(status=ours(), deleting=True)
    assert _plan(deleting, polls=3, config=config("DELETING")).retry_after == poll_delay(3, TIMINGS)


def test_an_error_that_waits_for_a_spec_change_still_retries_a_deletion() -> None:
    bad = EksError(
        "InvalidParameterException", "no", operation="DisassociateIdentityProviderConfig"
    )
    result = _plan(obj(status=ours(), deleting=True), error=bad)
    assert result.retry_after == TIMINGS.poll_max
    outside_deletion = _plan(obj(status=ours()), error=bad)
    assert outside_deletion.retry_after is None


def test_retries_back_off_with_the_retry_count() -> None:
    first = _plan(obj(), retries=0, config=None, cluster_missing=True).retry_after
    later = _plan(obj(), retries=3, config=None, cluster_missing=True).retry_after
    assert first is not None
    assert later is not None
    assert 8 <= first <= 12
    assert 64 <= later <= 96


def test_waiting_for_a_busy_cluster_sets_no_timer_and_records_since_when() -> None:
    result = _plan(obj(), config=None, gate_holder="other")
    assert result.verdict.queued
    assert (result.retry_after, result.poll_after) == (None, None)
    assert result.status.queued_since == NOW
    again = _plan(obj(status=result.status.model_dump(by_alias=True)), gate_holder="other")
    assert again.status.queued_since == NOW


def test_a_queued_object_being_deleted_looks_again_on_the_queue_schedule() -> None:
    result = _plan(obj(deleting=True, status=ours()), config=config(), gate_holder="other")
    assert result.rule == "cluster_busy"
    assert result.retry_after is not None
    assert 24 <= result.retry_after <= 36  # the poll interval, jittered


def test_a_pass_that_ends_as_it_began_is_not_queued() -> None:
    result = _plan(obj(status=ours()), config=config())
    assert result.status.queued_since is None


def test_events_are_posted_on_transitions_only() -> None:
    first = _plan(obj(), config=None, cluster_missing=True)
    assert [e.reason for e in first.events] == ["ClusterNotFound"]
    again = _plan(
        obj(status=first.status.model_dump(by_alias=True)), config=None, cluster_missing=True
    )
    assert again.events == ()


def test_an_error_keeps_what_status_recorded_about_eks() -> None:
    recorded = ours(update={"id": "u-1", "status": "Successful"})
    throttled = EksError("ThrottlingException", "Rate exceeded", operation="DescribeUpdate")
    result = _plan(obj(status=recorded), error=throttled)
    assert result.status.identity_provider_config_arn == ARN
    assert result.status.config_status == "ACTIVE"
    assert result.status.update is not None
    assert result.status.update.id == "u-1"
    assert result.status.phase == "Active"


def test_the_pure_planner_loads_no_aws_sdk() -> None:
    # The decision code reads EKS's values (errors, observed configs) but must never need
    # boto3: a fresh interpreter imports the planner and the rules and finds no botocore.
    probe = (
        "import sys, eks_oidc_operator.reconcile.planner, eks_oidc_operator.reconcile.rules;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'kopf')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
