"""decide(): every (spec, status, EKS state) case of DESIGN.md §2, as a table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from eks_oidc_operator.models import OidcIdentityProvider, Phase
from eks_oidc_operator.reconcile.decision import (
    Decision,
    Observation,
    Step,
    association_token,
    decide,
    disassociation_token,
)
from eks_oidc_operator.reconcile.errors import Retry
from tests.unit.reconcile.factories import ARN, NOW, OTHER_ARN, config, obj, ours, update

SLOW = 60.0


def _stalled_since(
    seconds_ago: float, generation: int = 1, reason: str = "Unknown"
) -> dict[str, Any]:
    when = (NOW - timedelta(seconds=seconds_ago)).isoformat()
    return {
        "conditions": [
            {
                "type": "Stalled",
                "status": "True",
                "reason": reason,
                "message": "m",
                "lastTransitionTime": when,
                "observedGeneration": generation,
            }
        ],
        "update": {
            "id": "u-1",
            "type": "AssociateIdentityProviderConfig",
            "status": "Failed",
            "errors": [{"errorCode": reason, "errorMessage": "m"}],
        },
        "phase": "Failed",
    }


CASES: dict[str, tuple[OidcIdentityProvider, Observation, Step, Phase, str]] = {
    "new object, nothing in EKS: associate": (
        obj(),
        Observation(config=None),
        Step.ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "cluster missing: retry with backoff": (
        obj(),
        Observation(config=None, cluster_missing=True),
        Step.RETRY,
        Phase.PENDING,
        "ClusterNotFound",
    ),
    "our update in progress: wait": (
        obj(status={"update": {"id": "u-1", "status": "InProgress"}}),
        Observation(config=None, update=update()),
        Step.WAIT,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "config CREATING and matching: wait (adopting it)": (
        obj(),
        Observation(config=config("CREATING")),
        Step.WAIT,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "config ACTIVE and ours: ready": (
        obj(status=ours()),
        Observation(config=config()),
        Step.READY,
        Phase.ACTIVE,
        "Active",
    ),
    "config ACTIVE, matching, not ours: adopt and ready": (
        obj(),
        Observation(config=config()),
        Step.READY,
        Phase.ACTIVE,
        "Active",
    ),
    "EKS default usernameClaim echoed: still matches": (
        obj(status=ours()),
        Observation(config=config(username_claim="sub")),
        Step.READY,
        Phase.ACTIVE,
        "Active",
    ),
    "config exists with other settings, not ours: conflict": (
        obj(),
        Observation(config=config(client_id="other")),
        Step.STALL,
        Phase.FAILED,
        "ConfigConflict",
    ),
    "spec.oidc changed on our ACTIVE config: replace": (
        obj(status=ours(), oidc={"clientId": "new"}),
        Observation(config=config()),
        Step.DISASSOCIATE,
        Phase.REPLACING,
        "Replacing",
    ),
    "spec.oidc changed while ours is CREATING: wait, then replace": (
        obj(status=ours(), oidc={"clientId": "new"}),
        Observation(config=config("CREATING")),
        Step.WAIT,
        Phase.REPLACING,
        "Replacing",
    ),
    "replacement's disassociation in progress: wait (Replacing)": (
        obj(
            status=ours(
                update={
                    "id": "u-1",
                    "status": "InProgress",
                    "type": "DisassociateIdentityProviderConfig",
                }
            ),
            oidc={"clientId": "new"},
        ),
        Observation(config=None, update=update(type_="DisassociateIdentityProviderConfig")),
        Step.WAIT,
        Phase.REPLACING,
        "Replacing",
    ),
    "our config DELETING: wait": (
        obj(status=ours()),
        Observation(config=config("DELETING")),
        Step.WAIT,
        Phase.REPLACING,
        "WaitingForDisassociation",
    ),
    "tags differ: sync tags": (
        obj(status=ours(), tags={"team": "a"}),
        Observation(config=config(tags={"old": "x"})),
        Step.SYNC_TAGS,
        Phase.ACTIVE,
        "SyncingTags",
    ),
    "aws: tags are never removed": (
        obj(status=ours()),
        Observation(config=config(tags={"aws:cloudformation": "x"})),
        Step.READY,
        Phase.ACTIVE,
        "Active",
    ),
    "our ACTIVE config vanished: drift, associate again": (
        obj(status=ours(update={"id": "u-1", "status": "Successful"})),
        Observation(config=None, update=update("Successful")),
        Step.ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "update failed just now: stall with EKS's code": (
        obj(status={"update": {"id": "u-1", "status": "InProgress"}}),
        Observation(config=None, update=update("Failed", code="ClusterUnreachable", message="m")),
        Step.STALL,
        Phase.FAILED,
        "ClusterUnreachable",
    ),
    "failed update, config still CREATING (not yet collected): stall": (
        obj(status={"update": {"id": "u-1", "status": "InProgress"}}),
        Observation(
            config=config("CREATING"),
            update=update("Failed", code="Unknown", message="issuer unreachable"),
        ),
        Step.STALL,
        Phase.FAILED,
        "Unknown",
    ),
    "failed (slow retry) long enough ago: associate again": (
        obj(status=_stalled_since(SLOW + 1)),
        Observation(config=None, update=update("Failed", code="Unknown", message="m")),
        Step.ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "failed (slow retry) too recently: stay stalled": (
        obj(status=_stalled_since(SLOW - 1)),
        Observation(config=None, update=update("Failed", code="Unknown", message="m")),
        Step.STALL,
        Phase.FAILED,
        "Unknown",
    ),
    "failed (never retried) stays stalled however long": (
        obj(status=_stalled_since(10 * SLOW, reason="ConfigurationConflict")),
        Observation(
            config=None, update=update("Failed", code="ConfigurationConflict", message="m")
        ),
        Step.STALL,
        Phase.FAILED,
        "ConfigurationConflict",
    ),
    "failed (never retried) but the spec changed: associate": (
        obj(status=_stalled_since(1, reason="ConfigurationConflict"), generation=2),
        Observation(
            config=None, update=update("Failed", code="ConfigurationConflict", message="m")
        ),
        Step.ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    # Deletion
    "delete, Retain: release at once": (
        obj(status=ours(), deleting=True, deletionPolicy="Retain"),
        Observation(config=config()),
        Step.RELEASE,
        Phase.DISASSOCIATING,
        "Retained",
    ),
    "delete, our ACTIVE config: disassociate": (
        obj(status=ours(), deleting=True),
        Observation(config=config()),
        Step.DISASSOCIATE,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, config CREATING: wait it out": (
        obj(status=ours(), deleting=True),
        Observation(config=config("CREATING")),
        Step.WAIT,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, our association still in progress: wait": (
        obj(status={"update": {"id": "u-1", "status": "InProgress"}}, deleting=True),
        Observation(config=None, update=update()),
        Step.WAIT,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, disassociation in progress: wait": (
        obj(status=ours(), deleting=True),
        Observation(config=None, update=update(type_="DisassociateIdentityProviderConfig")),
        Step.WAIT,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, config gone: release": (
        obj(status=ours(), deleting=True),
        Observation(config=None),
        Step.RELEASE,
        Phase.DISASSOCIATING,
        "Disassociated",
    ),
    "delete, cluster gone: release": (
        obj(status=ours(), deleting=True),
        Observation(config=None, cluster_missing=True),
        Step.RELEASE,
        Phase.DISASSOCIATING,
        "ClusterGone",
    ),
    "delete, someone else's config: leave it, release": (
        obj(status=ours(), deleting=True),
        Observation(config=config(arn=OTHER_ARN, client_id="x")),
        Step.RELEASE,
        Phase.DISASSOCIATING,
        "NotOwned",
    ),
    "delete after a crash before the ARN was written: matching config is ours": (
        obj(deleting=True),
        Observation(config=config()),
        Step.DISASSOCIATE,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
}


@pytest.mark.parametrize(
    ("resource", "observation", "step", "phase", "reason"), CASES.values(), ids=CASES.keys()
)
def test_decide(
    resource: OidcIdentityProvider, observation: Observation, step: Step, phase: Phase, reason: str
) -> None:
    decision = decide(resource, observation, now=NOW, slow_retry=SLOW)
    assert (decision.step, decision.phase, decision.reason) == (step, phase, reason)


def _decide(resource: OidcIdentityProvider, observation: Observation) -> Decision:
    return decide(resource, observation, now=NOW, slow_retry=SLOW)


def test_a_failed_update_reports_eks_code_message_and_resource_ids() -> None:
    failed = update("Failed", code="ClusterUnreachable", message="The cluster is unreachable")
    failed = failed.model_copy(
        update={"errors": (failed.errors[0].model_copy(update={"resource_ids": ("prod",)}),)}
    )
    decision = _decide(obj(), Observation(config=None, update=failed))
    assert decision.message == "The cluster is unreachable (resources: prod)"
    assert [(e.type, e.reason) for e in decision.events] == [("Warning", "ClusterUnreachable")]
    assert decision.policy is not None
    assert decision.policy.retry is Retry.SLOW


def test_a_conflict_names_the_differing_fields_and_never_retries() -> None:
    decision = _decide(obj(), Observation(config=config(client_id="x", groups_claim="g")))
    assert "spec.oidc.clientId" in decision.message
    assert "spec.oidc.groupsClaim" in decision.message
    assert decision.policy is not None
    assert decision.policy.retry is Retry.NEVER


def test_tag_sync_sets_changed_and_removes_extra_keys() -> None:
    decision = _decide(
        obj(status=ours(), tags={"team": "a", "env": "prod"}),
        Observation(config=config(tags={"team": "b", "old": "x", "env": "prod"})),
    )
    assert decision.tags is not None
    assert decision.tags.to_set == {"team": "a"}
    assert decision.tags.to_remove == ("old",)


def test_adoption_is_announced_once_with_an_event() -> None:
    decision = _decide(obj(), Observation(config=config()))
    assert decision.adopt
    assert [e.reason for e in decision.events] == ["Adopted"]
    again = _decide(obj(status=ours()), Observation(config=config()))
    assert not again.adopt
    assert again.events == ()


def test_drift_posts_a_warning() -> None:
    decision = _decide(
        obj(status=ours(update={"id": "u-1", "status": "Successful"})),
        Observation(config=None, update=update("Successful")),
    )
    assert [(e.type, e.reason) for e in decision.events] == [("Warning", "DriftDetected")]


def test_tokens_are_deterministic_and_change_with_generation_and_last_update() -> None:
    first = obj()
    assert association_token(first) == association_token(obj())
    assert association_token(first) != association_token(obj(generation=2))
    after_failure = obj(status={"update": {"id": "u-1", "status": "Failed"}})
    assert association_token(after_failure) != association_token(first)
    assert len(association_token(obj(clientRequestToken="x" * 64))) <= 64
    assert disassociation_token(first, config()) == disassociation_token(obj(), config())
    assert disassociation_token(first, config()) != disassociation_token(
        first, config(arn=OTHER_ARN)
    )


def test_the_arn_constant_is_what_ours_records() -> None:
    assert obj(status=ours()).status.identity_provider_config_arn == ARN


def test_a_disassociation_started_outside_is_reported_as_drift_once() -> None:
    outside = update(type_="DisassociateIdentityProviderConfig", id_="u-outside")
    first = _decide(
        obj(status=ours(update={"id": "u-1", "status": "Successful"})),
        Observation(config=config("DELETING"), update=outside),
    )
    assert (first.step, first.reason) == (Step.WAIT, "DriftDetected")
    assert [(e.type, e.reason) for e in first.events] == [("Warning", "DriftDetected")]
    tracked = obj(
        status=ours(
            update={
                "id": "u-outside",
                "status": "InProgress",
                "type": "DisassociateIdentityProviderConfig",
            }
        )
    )
    again = _decide(tracked, Observation(config=None, update=outside))
    assert again.events == ()
