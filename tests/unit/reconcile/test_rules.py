"""The rule chains: every situation of the lifecycle, as a table, and what each plan holds.

Each row is one situation (the object, what EKS reports), the rule that must recognise it, and
what the plan does: the EKS call it makes, or how the pass ends, with the phase and reason that
status carries. Adding a situation means adding a rule and a row here; a test below fails when a
rule has no row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from eks_oidc_operator.models import IssuerCheckMode, OidcIdentityProvider, Phase
from eks_oidc_operator.models.eks import EksError, ObservedCluster
from eks_oidc_operator.reconcile import rules
from eks_oidc_operator.reconcile.guards.claims import settle_wait
from eks_oidc_operator.reconcile.guards.issuer import (
    ANSWERED_WRONGLY,
    NOT_ALLOWED,
    NOT_CHECKED,
    UNREACHABLE,
    IssuerCheck,
)
from eks_oidc_operator.reconcile.guards.ownership import owner_of
from eks_oidc_operator.reconcile.observation import Checks, CrdState, Observation
from eks_oidc_operator.reconcile.plan import Associate, Disassociate, Kind, Plan, Tag, Untag
from eks_oidc_operator.reconcile.planner import plan, plan_before_eks
from eks_oidc_operator.reconcile.replacement.successor import successor_name
from eks_oidc_operator.reconcile.rules import before_eks
from eks_oidc_operator.reconcile.timing import Timings
from eks_oidc_operator.reconcile.tokens import association_token, disassociation_token
from eks_oidc_testing.paths import REPO
from tests.support.factories import (
    ARN,
    NOW,
    OTHER_ARN,
    OWNER,
    config,
    ctx,
    obj,
    ours,
    update,
)

PAUSED = "eksoidc.io/paused"

SLOW = 60.0
"""The default ``slow_retry_base``."""

THROTTLED = EksError(
    "ThrottlingException", "Rate exceeded", operation="DescribeIdentityProviderConfig"
)
DENIED = EksError("AccessDeniedException", "not allowed", operation="DescribeUpdate")

# What a plan does, in one word: the call that changes EKS, or how the pass ends.
ASSOCIATE, DISASSOCIATE, SYNC_TAGS = "Associate", "Disassociate", "SyncTags"
WAIT, READY, RETRY, STALL, RELEASE = "Wait", "Ready", "Retry", "Stall", "Release"


GRANTED = Checks(may_adopt=True)
"""A pass the tenancy policy permits, adoption included."""


def seen(**fields: Any) -> dict[str, Any]:
    """What EKS reports in one row (the fields of an Observation besides the object)."""
    return fields


def what(result: Plan) -> str:
    """The one word for what ``result`` does."""
    calls = result.calls
    if any(isinstance(c, Associate) for c in calls):
        return ASSOCIATE
    if any(isinstance(c, Disassociate) for c in calls):
        return DISASSOCIATE
    if calls and all(isinstance(c, Tag | Untag) for c in calls):
        return SYNC_TAGS
    return {
        Kind.WAIT: WAIT,
        Kind.READY: READY,
        Kind.RETRY: RETRY,
        Kind.STALL: STALL,
        Kind.RELEASE: RELEASE,
    }[result.verdict.kind]


def _plan(resource: OidcIdentityProvider, **fields: Any) -> Plan:
    """As the reconciler plans: the pre-AWS chain first, then (on what EKS said) the others.
    The tenancy policy grants adoption unless a row says otherwise (most rows are not about
    tenancy; those that are pass their own checks)."""
    fields.setdefault("checks", GRANTED)
    observation = Observation(resource, **fields)
    return plan_before_eks(observation, ctx()) or plan(observation, ctx())


FAILED_UPDATE = {
    "id": "u-1",
    "type": "AssociateIdentityProviderConfig",
    "status": "Failed",
    "errors": [{"errorCode": "Unknown", "errorMessage": "m"}],
}


def _failed(
    *,
    until: float | None,
    retries: int = 0,
    reason: str = "Unknown",
    **extra: Any,
) -> dict[str, Any]:
    """The status of an object stalled on our failed association and held: for ``until``
    seconds from NOW (negative: the hold is up; ``None``: until the spec changes)."""
    hold: dict[str, Any] = {"reason": f"UpdateFailed{reason}", "generation": 1}
    if until is not None:
        hold["until"] = (NOW + timedelta(seconds=until)).isoformat()
    return {
        "observedGeneration": 1,
        "phase": "Failed",
        "update": {**FAILED_UPDATE, "errors": [{"errorCode": reason, "errorMessage": "m"}]},
        "hold": hold,
        "automaticRetries": retries,
        "conditions": [
            {
                "type": "Stalled",
                "status": "True",
                "reason": f"UpdateFailed{reason}",
                "message": "m",
                "lastTransitionTime": NOW.isoformat(),
                "observedGeneration": 1,
            }
        ],
        **extra,
    }


IN_FLIGHT = {"observedGeneration": 1, "update": {"id": "u-1", "status": "InProgress"}}
FAILED_UNKNOWN = update("Failed", code="Unknown", message="m")


NEW_ISSUER = {"issuerUrl": "https://login.new.example.com"}
SUCCESSOR = successor_name("corp", obj(oidc=NEW_ISSUER).spec.oidc)
"""The derived name of a replacement to the settings ``NEW_ISSUER``."""
CLUSTER_1_33 = ObservedCluster(name="prod", status="ACTIVE", version="1.33")


def NEW_CONFIG(status: str) -> Any:  # noqa: N802 - reads like the constants around it
    """The replacement's new config, with the ``NEW_ISSUER`` settings."""
    return config(status, arn=OTHER_ARN, name=SUCCESSOR, issuer_url=NEW_ISSUER["issuerUrl"])


ANNOUNCED = ours(
    conditions=[
        {
            "type": "Ready",
            "status": "False",
            "reason": "ReplacementOutage",
            "message": "m",
            "lastTransitionTime": NOW.isoformat(),
            "observedGeneration": 1,
        }
    ]
)
"""Our ACTIVE config, after a pass announced a delete-first replacement's outage."""


CASES: dict[str, tuple[OidcIdentityProvider, dict[str, Any], str, str, Phase, str]] = {
    "new object, nothing in EKS: associate": (
        obj(),
        seen(config=None),
        "config_missing",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "cluster missing: retry with backoff": (
        obj(),
        seen(config=None, cluster_missing=True),
        "cluster_missing",
        RETRY,
        Phase.PENDING,
        "ClusterNotFound",
    ),
    "our update in progress: wait": (
        obj(status={"update": {"id": "u-1", "status": "InProgress"}}),
        seen(config=None, update=update()),
        "update_in_flight",
        WAIT,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "config CREATING and matching: wait (adopting it)": (
        obj(),
        seen(config=config("CREATING")),
        "config_creating",
        WAIT,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "config ACTIVE and ours: ready": (
        obj(status=ours()),
        seen(config=config()),
        "in_sync",
        READY,
        Phase.ACTIVE,
        "Active",
    ),
    "config ACTIVE, matching, untagged: adopt, tag it, ready": (
        obj(),
        seen(config=config(owner=None)),
        "tags_drifted",
        SYNC_TAGS,
        Phase.ACTIVE,
        "Active",
    ),
    "config tagged as another object's: never touched, stalled": (
        obj(status=ours()),
        seen(config=config(owner="team-b/corp")),
        "owned_by_another",
        STALL,
        Phase.FAILED,
        "ConfigOwnedByAnother",
    ),
    "untagged config, adoptionPolicy Never: left alone, stalled": (
        obj(adoptionPolicy="Never"),
        seen(config=config(owner=None)),
        "not_adopted",
        STALL,
        Phase.FAILED,
        "NotAdopted",
    ),
    "untagged config, the tenancy policy grants no adoption: left alone, nothing told": (
        obj(),
        seen(config=config(owner=None, client_id="theirs"), checks=Checks()),
        "not_adopted",
        STALL,
        Phase.FAILED,
        "AdoptionNotPermitted",
    ),
    "our untagged config (made before ownership tags): tag it, ready": (
        obj(status=ours()),
        seen(config=config(owner=None)),
        "tags_drifted",
        SYNC_TAGS,
        Phase.ACTIVE,
        "Active",
    ),
    "no room for another provider (Kubernetes 1.31): stalled, nothing sent": (
        obj(),
        seen(
            config=None,
            cluster=ObservedCluster(name="prod", status="ACTIVE", version="1.31"),
            neighbours=("okta",),
        ),
        "config_missing",
        STALL,
        Phase.FAILED,
        "ProviderLimitReached",
    ),
    "room on 1.32 (nine others): associate": (
        obj(),
        seen(
            config=None,
            cluster=ObservedCluster(name="prod", status="ACTIVE", version="1.32"),
            neighbours=tuple(f"idp{i}" for i in range(9)),
        ),
        "config_missing",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "Associate refused on an ACTIVE cluster: a limit, stalled": (
        obj(),
        seen(
            config=None,
            cluster=ObservedCluster(name="prod", status="ACTIVE", version="1.33"),
            error=EksError(
                "InvalidRequestException",
                "combined size limit",
                operation="AssociateIdentityProviderConfig",
            ),
        ),
        "limit_refused",
        STALL,
        Phase.FAILED,
        "ProviderLimitExceeded",
    ),
    "parameter error: stalled and held (never sent again as is)": (
        obj(),
        seen(
            config=None,
            error=EksError(
                "InvalidParameterException", "bad", operation="AssociateIdentityProviderConfig"
            ),
        ),
        "eks_error",
        STALL,
        Phase.FAILED,
        "InvalidParameterException",
    ),
    "not permitted by the tenancy policy: stalled before any AWS call": (
        obj(roleArn="arn:aws:iam::111111111111:role/x"),
        seen(checks=Checks(denied="no tenancy rule covers namespace platform")),
        "not_permitted",
        STALL,
        Phase.FAILED,
        "NotPermitted",
    ),
    "the issuer answers wrongly, Enforce: stalled before any EKS call": (
        obj(),
        seen(checks=Checks(issuer=IssuerCheck("https://login.example.com", ANSWERED_WRONGLY))),
        "issuer_refused",
        STALL,
        Phase.FAILED,
        "IssuerAnsweredWrongly",
    ),
    "the fence will not fetch the issuer, Enforce: stalled before any EKS call": (
        obj(),
        seen(checks=Checks(issuer=IssuerCheck("https://login.example.com", NOT_ALLOWED))),
        "issuer_refused",
        STALL,
        Phase.FAILED,
        "IssuerNotAllowed",
    ),
    "the issuer check got no turn: no EKS call, checked again soon": (
        obj(),
        seen(
            config=None, checks=Checks(issuer=IssuerCheck("https://login.example.com", NOT_CHECKED))
        ),
        "issuer_not_checked",
        RETRY,
        Phase.PENDING,
        "IssuerNotCheckedYet",
    ),
    "the issuer check got no turn under Warn: no finding would stop it, associate": (
        obj(),
        seen(
            config=None,
            checks=Checks(
                issuer=IssuerCheck("https://login.example.com", NOT_CHECKED),
                issuer_mode=IssuerCheckMode.WARN,
            ),
        ),
        "config_missing",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "the issuer cannot be reached (network): a warning, associate": (
        obj(),
        seen(
            config=None,
            checks=Checks(issuer=IssuerCheck("https://login.example.com", UNREACHABLE)),
        ),
        "config_missing",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "the issuer answers wrongly under Warn: associate": (
        obj(),
        seen(
            config=None,
            checks=Checks(
                issuer=IssuerCheck("https://login.example.com", ANSWERED_WRONGLY),
                issuer_mode=IssuerCheckMode.WARN,
            ),
        ),
        "config_missing",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "an older object names the same config, nothing recorded: it goes first": (
        obj(),
        seen(checks=Checks(rival="team-a/corp")),
        "claimed_by_older",
        STALL,
        Phase.FAILED,
        "ConfigOwnedByAnother",
    ),
    "an older object names the config this one already associated: the tag decides": (
        obj(status=ours()),
        seen(checks=Checks(rival="team-a/corp"), config=config()),
        "in_sync",
        READY,
        Phase.ACTIVE,
        "Active",
    ),
    "delete, never permitted, nothing recorded: release": (
        obj(deleting=True),
        seen(checks=Checks(denied="no tenancy rule covers namespace platform")),
        "not_permitted",
        RELEASE,
        Phase.DISASSOCIATING,
        "NotPermitted",
    ),
    "EKS default usernameClaim echoed: still matches": (
        obj(status=ours()),
        seen(config=config(username_claim="sub")),
        "in_sync",
        READY,
        Phase.ACTIVE,
        "Active",
    ),
    "config exists with other settings, not ours: conflict": (
        obj(),
        seen(config=config(client_id="other", owner=None)),
        "config_conflicts",
        STALL,
        Phase.FAILED,
        "ConfigConflict",
    ),
    "spec.oidc changed, deleting first: the outage is announced before anything": (
        obj(status=ours(), oidc={"clientId": "new"}, replacementPolicy="DeleteBeforeCreate"),
        seen(config=config()),
        "oidc_changed",
        RETRY,
        Phase.REPLACING,
        "ReplacementOutage",
    ),
    "spec.oidc changed, deleting first, outage announced: disassociate": (
        obj(status=ANNOUNCED, oidc={"clientId": "new"}, replacementPolicy="DeleteBeforeCreate"),
        seen(config=config()),
        "oidc_changed",
        DISASSOCIATE,
        Phase.REPLACING,
        "Replacing",
    ),
    "make-before-break: the new config is associated next to the old one": (
        obj(status=ours(), oidc=NEW_ISSUER),
        seen(name=SUCCESSOR, config=None, previous=config(), cluster=CLUSTER_1_33),
        "config_missing",
        ASSOCIATE,
        Phase.REPLACING,
        "Replacing",
    ),
    "make-before-break: the new config CREATING, the old one serves: wait": (
        obj(status=ours(), oidc=NEW_ISSUER),
        seen(name=SUCCESSOR, config=NEW_CONFIG("CREATING"), previous=config()),
        "config_creating",
        WAIT,
        Phase.REPLACING,
        "Replacing",
    ),
    "make-before-break: the new config ACTIVE: disassociate the old one": (
        obj(status=ours(), oidc=NEW_ISSUER),
        seen(name=SUCCESSOR, config=NEW_CONFIG("ACTIVE"), previous=config()),
        "previous_retires",
        DISASSOCIATE,
        Phase.REPLACING,
        "Replacing",
    ),
    "make-before-break: the old config DELETING: wait until it is gone": (
        obj(status=ours(), oidc=NEW_ISSUER),
        seen(name=SUCCESSOR, config=NEW_CONFIG("ACTIVE"), previous=config("DELETING")),
        "previous_going",
        WAIT,
        Phase.REPLACING,
        "WaitingForDisassociation",
    ),
    "spec back to the old settings while the new config is CREATING: wait to remove it": (
        obj(status=ours()),
        seen(config=config(), previous=NEW_CONFIG("CREATING")),
        "previous_settles",
        WAIT,
        Phase.REPLACING,
        "Replacing",
    ),
    "EKS refuses the new config next to the old one (size): fall back, announced first": (
        obj(status=ours(), oidc=NEW_ISSUER),
        seen(
            name=SUCCESSOR,
            config=None,
            previous=config(),
            cluster=CLUSTER_1_33,
            error=EksError(
                "InvalidRequestException",
                "would exceed the combined size limit",
                operation="AssociateIdentityProviderConfig",
            ),
        ),
        "successor_refused",
        RETRY,
        Phase.REPLACING,
        "ReplacementOutage",
    ),
    "spec.oidc changed, replacementPolicy Never: refused, held": (
        obj(status=ours(), oidc={"clientId": "new"}, replacementPolicy="Never"),
        seen(config=config()),
        "replacement_refused",
        STALL,
        Phase.FAILED,
        "ReplacementRefused",
    ),
    "spec.oidc changed while ours is CREATING: wait, then replace": (
        obj(status=ours(), oidc={"clientId": "new"}),
        seen(config=config("CREATING")),
        "replacement_waits_for_creation",
        WAIT,
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
        seen(config=None, update=update(type_="DisassociateIdentityProviderConfig")),
        "update_in_flight",
        WAIT,
        Phase.REPLACING,
        "Replacing",
    ),
    "our config DELETING: wait": (
        obj(status=ours()),
        seen(config=config("DELETING")),
        "config_deleting_outside",
        WAIT,
        Phase.REPLACING,
        "WaitingForDisassociation",
    ),
    "tags differ: sync tags": (
        obj(status=ours(), tags={"team": "a"}),
        seen(config=config(tags={"old": "x"})),
        "tags_drifted",
        SYNC_TAGS,
        Phase.ACTIVE,
        "Active",
    ),
    "aws: tags are never removed": (
        obj(status=ours()),
        seen(config=config(tags={"aws:cloudformation": "x"})),
        "in_sync",
        READY,
        Phase.ACTIVE,
        "Active",
    ),
    "our ACTIVE config vanished: drift, associate again": (
        obj(status=ours(update={"id": "u-1", "status": "Successful"})),
        seen(config=None, update=update("Successful")),
        "config_removed_outside",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "update failed just now, retries left: progress with EKS's code, retried later": (
        obj(status=IN_FLIGHT),
        seen(config=None, update=update("Failed", code="ClusterUnreachable", message="m")),
        "update_failed",
        RETRY,
        Phase.ASSOCIATING,
        "UpdateFailedClusterUnreachable",
    ),
    "failed update, config still CREATING (not yet collected), retries left: progress": (
        obj(status=IN_FLIGHT),
        seen(
            config=config("CREATING"),
            update=update("Failed", code="Unknown", message="issuer unreachable"),
        ),
        "failed_config_lingers",
        RETRY,
        Phase.ASSOCIATING,
        "UpdateFailedUnknown",
    ),
    "failed, its hold is up: automatic retry": (
        obj(status=_failed(until=-1)),
        seen(config=None, update=FAILED_UNKNOWN),
        "update_failed",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "failed, its hold is not up: held, no EKS call": (
        obj(status=_failed(until=30)),
        seen(),
        "held",
        STALL,
        Phase.FAILED,
        "UpdateFailedUnknown",
    ),
    "failed, automatic retries spent: held until asked": (
        obj(status=_failed(until=None, retries=3)),
        seen(),
        "held",
        STALL,
        Phase.FAILED,
        "UpdateFailedUnknown",
    ),
    "failed and held, but the spec changed: associate": (
        obj(status=_failed(until=None, reason="ConfigurationConflict"), generation=2),
        seen(config=None, update=update("Failed", code="ConfigurationConflict", message="m")),
        "update_failed",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "failed and held, a retry asked by annotation: associate": (
        obj(status=_failed(until=None, retries=3), annotations={"eksoidc.io/retry": "1"}),
        seen(config=None, update=FAILED_UNKNOWN),
        "update_failed",
        ASSOCIATE,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "the replacement's disassociation failed, retries left: progress with EKS's code": (
        obj(
            status=ours(update={**FAILED_UPDATE, "type": "DisassociateIdentityProviderConfig"}),
            oidc={"clientId": "new"},
        ),
        seen(
            config=config(),
            update=update("Failed", type_="DisassociateIdentityProviderConfig", code="Unknown"),
        ),
        "replacement_failed",
        RETRY,
        Phase.REPLACING,
        "UpdateFailedUnknown",
    ),
    "the replacement's disassociation failed, retry asked: disassociated again at once": (
        obj(
            status=ours(
                update={**FAILED_UPDATE, "type": "DisassociateIdentityProviderConfig"},
                retryRequest="1",
            ),
            oidc={"clientId": "new"},
            annotations={"eksoidc.io/retry": "2"},
        ),
        seen(
            config=config(),
            update=update("Failed", type_="DisassociateIdentityProviderConfig", code="Unknown"),
        ),
        "replacement_failed",
        DISASSOCIATE,  # the outage was announced before the attempt that failed
        Phase.REPLACING,
        "Replacing",
    ),
    # Deletion
    "delete, Retain: release at once": (
        obj(status=ours(), deleting=True, deletionPolicy="Retain"),
        seen(config=config()),
        "retained",
        RELEASE,
        Phase.DISASSOCIATING,
        "Retained",
    ),
    "delete, the CRD being deleted: let go, config kept": (
        obj(status=ours(), deleting=True),
        seen(config=config(), checks=Checks(crd=CrdState.DELETING)),
        "crd_deleted",
        RELEASE,
        Phase.DISASSOCIATING,
        "CrdDeleted",
    ),
    "delete, the CRD unreadable: deletion waits": (
        obj(status=ours(), deleting=True),
        seen(config=config(), checks=Checks(crd=CrdState.UNREAD, crd_problem="403 Forbidden")),
        "crd_deleted",
        STALL,
        Phase.FAILED,
        "CrdUnread",
    ),
    "delete, our ACTIVE config: disassociate": (
        obj(status=ours(), deleting=True),
        seen(config=config()),
        "disassociate",
        DISASSOCIATE,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, config CREATING: wait it out": (
        obj(status=ours(), deleting=True),
        seen(config=config("CREATING")),
        "deletion_waits_for_config",
        WAIT,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, our association still in progress: wait": (
        obj(status={"update": {"id": "u-1", "status": "InProgress"}}, deleting=True),
        seen(config=None, update=update()),
        "deletion_waits_for_update",
        WAIT,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, disassociation in progress: wait": (
        obj(status=ours(), deleting=True),
        seen(config=None, update=update(type_="DisassociateIdentityProviderConfig")),
        "deletion_waits_for_update",
        WAIT,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    "delete, config gone: release": (
        obj(status=ours(), deleting=True),
        seen(config=None),
        "config_gone",
        RELEASE,
        Phase.DISASSOCIATING,
        "Disassociated",
    ),
    "delete, cluster gone: release": (
        obj(status=ours(), deleting=True),
        seen(config=None, cluster_missing=True),
        "cluster_gone",
        RELEASE,
        Phase.DISASSOCIATING,
        "ClusterGone",
    ),
    "delete, another object's tagged config: leave it, release": (
        obj(status=ours(), deleting=True),
        seen(config=config(owner="team-b/corp")),
        "not_owned",
        RELEASE,
        Phase.DISASSOCIATING,
        "NotOwned",
    ),
    "delete, our disassociation failed, retries left: progress with EKS's code": (
        obj(
            status=ours(
                update={**FAILED_UPDATE, "type": "DisassociateIdentityProviderConfig"},
            ),
            deleting=True,
        ),
        seen(
            config=config(),
            update=update("Failed", type_="DisassociateIdentityProviderConfig", code="Unknown"),
        ),
        "disassociation_failed",
        RETRY,
        Phase.DISASSOCIATING,
        "UpdateFailedUnknown",
    ),
    "delete, someone else's config: leave it, release": (
        obj(status=ours(), deleting=True),
        seen(config=config(arn=OTHER_ARN, client_id="x", owner=None)),
        "not_owned",
        RELEASE,
        Phase.DISASSOCIATING,
        "NotOwned",
    ),
    "delete after a crash before the ARN was written: matching config is ours": (
        obj(deleting=True),
        seen(config=config()),
        "disassociate",
        DISASSOCIATE,
        Phase.DISASSOCIATING,
        "Disassociating",
    ),
    # Situations the chains share
    "EKS error while gathering: the error policy (transient: retry)": (
        obj(status=ours()),
        seen(error=THROTTLED),
        "eks_error",
        RETRY,
        Phase.ACTIVE,
        "ThrottlingException",
    ),
    "EKS error while deleting: the error policy (a human: stall)": (
        obj(status=ours(), deleting=True),
        seen(error=DENIED),
        "eks_error",
        STALL,
        Phase.FAILED,
        "AccessDeniedException",
    ),
    "a new object on a busy cluster queues before any read": (
        obj(),
        seen(gate_holder="other-uid"),
        "waits_turn",
        RETRY,
        Phase.PENDING,
        "ClusterUpdateInProgress",
    ),
    "a config removed outside, on a busy cluster: re-associating waits for our turn": (
        obj(status=ours()),
        seen(config=None, gate_holder="other-uid"),
        "cluster_busy",
        RETRY,
        Phase.ACTIVE,
        "ClusterUpdateInProgress",
    ),
    "deletion waits for its turn on a busy cluster too": (
        obj(status=ours(), deleting=True),
        seen(config=config(), gate_holder="other-uid"),
        "cluster_busy",
        RETRY,
        Phase.ACTIVE,
        "ClusterUpdateInProgress",
    ),
    "a busy cluster does not hold back a pass that starts nothing": (
        obj(status=ours()),
        seen(config=config(), gate_holder="other-uid"),
        "in_sync",
        READY,
        Phase.ACTIVE,
        "Active",
    ),
    # More apply situations
    "a disassociation we did not start is running: drift, wait": (
        obj(status=ours(update={"id": "u-1", "status": "Successful"})),
        seen(
            config=config("DELETING"),
            update=update(type_="DisassociateIdentityProviderConfig", id_="u-outside"),
        ),
        "outside_disassociation_in_flight",
        WAIT,
        Phase.REPLACING,
        "DriftDetected",
    ),
    "someone else's config is DELETING: wait, then associate ours": (
        obj(),
        seen(config=config("DELETING", arn=OTHER_ARN, client_id="x", owner=None)),
        "config_deleting",
        WAIT,
        Phase.ASSOCIATING,
        "WaitingForDisassociation",
    ),
    # Per-object controls: pause, observe only
    "paused: no call, status as it was": (
        obj(status=ours(), annotations={PAUSED: "true"}),
        seen(),
        "paused",
        RETRY,
        Phase.ACTIVE,
        "Paused",
    ),
    "paused while being deleted: deletion waits": (
        obj(status=ours(), deleting=True, annotations={PAUSED: "true"}),
        seen(),
        "paused",
        RETRY,
        Phase.ACTIVE,
        "Paused",
    ),
    "paused and observed: the pause wins": (
        obj(managementPolicy="Observe", status=ours(), annotations={PAUSED: "yes"}),
        seen(),
        "paused",
        RETRY,
        Phase.ACTIVE,
        "Paused",
    ),
    "observed, deleted: released at once, nothing asked": (
        obj(managementPolicy="Observe", status=ours(), deleting=True),
        seen(),
        "observed_only",
        RELEASE,
        Phase.DISASSOCIATING,
        "Observed",
    ),
    "observed, not permitted: refused before any read": (
        obj(managementPolicy="Observe"),
        seen(checks=Checks(denied="not permitted")),
        "not_permitted",
        STALL,
        Phase.FAILED,
        "NotPermitted",
    ),
    "observed, EKS refuses the read: the error policy": (
        obj(managementPolicy="Observe"),
        seen(error=DENIED),
        "eks_error",
        STALL,
        Phase.FAILED,
        "AccessDeniedException",
    ),
    "observed, no such cluster": (
        obj(managementPolicy="Observe"),
        seen(config=None, cluster_missing=True),
        "observed_cluster_missing",
        STALL,
        Phase.FAILED,
        "ClusterNotFound",
    ),
    "observed, no such config: reported, never associated": (
        obj(managementPolicy="Observe"),
        seen(config=None, cluster=CLUSTER_1_33),
        "observed_config_missing",
        STALL,
        Phase.FAILED,
        "ConfigNotFound",
    ),
    "observed config not ours, the tenancy policy grants no adoption: nothing told": (
        obj(managementPolicy="Observe"),
        seen(config=config(owner=None, client_id="theirs"), checks=Checks()),
        "observed_not_granted",
        STALL,
        Phase.FAILED,
        "AdoptionNotPermitted",
    ),
    "observed config CREATING: followed": (
        obj(managementPolicy="Observe"),
        seen(config=config("CREATING", owner=None)),
        "observed_config_settling",
        WAIT,
        Phase.ASSOCIATING,
        "Associating",
    ),
    "observed config DELETING: followed": (
        obj(managementPolicy="Observe"),
        seen(config=config("DELETING", owner=None)),
        "observed_config_settling",
        WAIT,
        Phase.DISASSOCIATING,
        "WaitingForDisassociation",
    ),
    "observed config with other settings: drift, not corrected": (
        obj(managementPolicy="Observe"),
        seen(config=config(owner=None, client_id="someone-else")),
        "observed_drift",
        STALL,
        Phase.FAILED,
        "DriftDetected",
    ),
    "observed config with other tags than the spec sets: drift": (
        obj(managementPolicy="Observe", tags={"team": "a"}),
        seen(config=config(owner=None, tags={"team": "b"})),
        "observed_drift",
        STALL,
        Phase.FAILED,
        "DriftDetected",
    ),
    "observed config ACTIVE and matching (tags not in the spec): ready": (
        obj(managementPolicy="Observe"),
        seen(config=config(owner=None, tags={"team": "b"})),
        "observed_in_sync",
        READY,
        Phase.ACTIVE,
        "Active",
    ),
}


@pytest.mark.parametrize(
    ("resource", "observed", "rule", "does", "phase", "reason"), CASES.values(), ids=CASES.keys()
)
def test_the_rule_that_recognises_the_situation_makes_the_plan(
    resource: OidcIdentityProvider,
    observed: dict[str, Any],
    rule: str,
    does: str,
    phase: Phase,
    reason: str,
) -> None:
    result = _plan(resource, **observed)
    assert (result.rule, what(result), result.status.phase, result.verdict.reason) == (
        rule,
        does,
        phase,
        reason,
    )


def test_every_rule_has_a_row() -> None:
    covered = {row[2] for row in CASES.values()}
    chains = {
        rule.__name__
        for rule in (
            *before_eks.APPLY,
            *before_eks.OBSERVE,
            *before_eks.DELETE,
            *rules.APPLY,
            *rules.OBSERVE,
            *rules.DELETE,
        )
    }
    assert chains | {"cluster_busy"} <= covered, f"rules without a row: {chains - covered}"


def test_a_failed_update_reports_eks_code_message_and_resource_ids() -> None:
    failed = update("Failed", code="ClusterUnreachable", message="The cluster is unreachable")
    failed = failed.model_copy(
        update={"errors": (failed.errors[0].model_copy(update={"resource_ids": ("prod",)}),)}
    )
    result = _plan(obj(status=IN_FLIGHT), config=None, update=failed)
    # The reason reads on its own; EKS's code is at its end and in the message, with EKS's words.
    assert result.verdict.message.startswith(
        "EKS update u-1 (AssociateIdentityProviderConfig) ended Failed: errorCode "
        "ClusterUnreachable: The cluster is unreachable (resources: prod) ("
    )
    assert "automatic retry 1 of 3 in about" in result.verdict.message
    assert [(e.type, e.reason) for e in result.events] == [
        ("Warning", "UpdateFailedClusterUnreachable")
    ]
    # Retries are left: progress, not Stalled (GitOps health does not flap at each retry).
    states = {c.type: (c.status, c.reason) for c in result.status.conditions}
    assert states["Stalled"][0] == "False"
    assert states["Reconciling"] == ("True", "UpdateFailedClusterUnreachable")
    assert states["Ready"] == ("False", "UpdateFailedClusterUnreachable")
    # Held until the retry is due, and looked at again then.
    assert result.status.hold is not None
    assert result.status.hold.until is not None
    assert result.retry_after == pytest.approx((result.status.hold.until - NOW).total_seconds())


def test_a_conflict_names_the_differing_fields_and_never_retries() -> None:
    result = _plan(obj(), config=config(client_id="x", groups_claim="g", owner=None))
    assert "spec.oidc.clientId" in result.verdict.message
    assert "spec.oidc.groupsClaim" in result.verdict.message
    assert result.verdict.retry is None
    assert result.retry_after is None
    assert result.calls == ()


def test_tag_sync_sets_changed_and_removes_extra_keys_then_is_ready() -> None:
    result = _plan(
        obj(status=ours(), tags={"team": "a", "env": "prod"}),
        config=config(tags={"team": "b", "old": "x", "env": "prod"}),
    )
    assert result.calls == (Tag(ARN, {"team": "a"}), Untag(ARN, ("old",)))
    ready = next(c for c in result.status.conditions if c.type == "Ready")
    assert ready.status == "True"
    assert [e.reason for e in result.events] == ["TagsUpdated"]
    assert "old, team" in result.events[0].message


def test_only_the_tag_call_that_has_work_is_planned() -> None:
    added = _plan(obj(status=ours(), tags={"team": "a"}), config=config())
    # The ownership tag is part of the set: a config without it gets it back.
    assert added.calls == (Tag(ARN, {"team": "a"}),)
    removed = _plan(obj(status=ours()), config=config(tags={"old": "x"}))
    assert removed.calls == (Untag(ARN, ("old",)),)


def test_adoption_is_announced_once_with_an_event_and_tags_the_config() -> None:
    result = _plan(obj(), config=config(owner=None))
    assert result.verdict.adopt
    assert result.status.identity_provider_config_arn == ARN
    assert [e.reason for e in result.events] == ["Adopted", "TagsUpdated"]
    assert result.calls == (Tag(ARN, {"eksoidc.io/owner": OWNER}),)
    again = _plan(obj(status=ours()), config=config())
    assert not again.verdict.adopt
    assert again.events == ()


def test_drift_posts_a_warning() -> None:
    result = _plan(
        obj(status=ours(update={"id": "u-1", "status": "Successful"})),
        config=None,
        update=update("Successful"),
    )
    assert [(e.type, e.reason) for e in result.events] == [("Warning", "DriftDetected")]


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


def test_the_planned_calls_carry_the_tokens() -> None:
    associate = _plan(obj(), config=None).calls
    owned = {"eksoidc.io/owner": OWNER}
    assert associate == (
        Associate("prod", "corp", obj().spec.oidc, owned, association_token(obj())),
    )
    deleting = obj(status=ours(), deleting=True)
    disassociate = _plan(deleting, config=config()).calls
    assert disassociate == (Disassociate("prod", "corp", disassociation_token(deleting, config())),)


def test_the_arn_constant_is_what_ours_records() -> None:
    assert obj(status=ours()).status.identity_provider_config_arn == ARN


def test_a_disassociation_started_outside_is_reported_as_drift_once() -> None:
    outside = update(type_="DisassociateIdentityProviderConfig", id_="u-outside")
    first = _plan(
        obj(status=ours(update={"id": "u-1", "status": "Successful"})),
        config=config("DELETING"),
        update=outside,
    )
    assert (what(first), first.verdict.reason) == (WAIT, "DriftDetected")
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
    again = _plan(tracked, config=None, update=outside)
    assert again.events == ()


def test_a_busy_cluster_keeps_what_status_recorded_and_drops_the_plans_warnings() -> None:
    recorded = ours(update={"id": "u-1", "status": "Successful"})
    result = _plan(
        obj(status=recorded), config=None, update=update("Successful"), gate_holder="other-uid"
    )
    assert result.rule == "cluster_busy"
    assert result.calls == ()
    assert result.events == ()
    assert result.status.identity_provider_config_arn == ARN
    assert result.status.config_status == "ACTIVE"
    assert result.status.update is not None
    assert result.status.update.id == "u-1"
    assert result.verdict.queued


def _documented_chain(doc: str, heading: str) -> list[str]:
    """The rule names of the table that follows ``heading`` in docs/architecture.md."""
    table = doc.split(heading, 1)[1].split("\n\n", 2)[1]
    return [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]


def test_the_architecture_doc_lists_the_chains_as_they_are() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text()
    assert _documented_chain(doc, "Before any AWS call") == [r.__name__ for r in before_eks.APPLY]
    assert _documented_chain(doc, "Deletion, before any AWS call") == [
        r.__name__ for r in before_eks.DELETE
    ]
    assert _documented_chain(doc, "Observed only, before any AWS call") == [
        r.__name__ for r in before_eks.OBSERVE
    ]
    assert _documented_chain(doc, "Object in use") == [r.__name__ for r in rules.APPLY]
    assert _documented_chain(doc, "Object observed only") == [r.__name__ for r in rules.OBSERVE]
    assert _documented_chain(doc, "Object being deleted") == [r.__name__ for r in rules.DELETE]


FAILED_OURS = {
    "update": {"id": "u-1", "status": "Failed", "type": "AssociateIdentityProviderConfig"}
}


def test_a_config_seen_after_our_failed_association_is_not_ours() -> None:
    # Our association failed; later someone else made a config of that name with other
    # settings. It is a conflict to report, never a config of ours to replace (disassociate).
    failed = update("Failed", code="Unknown", message="m")
    result = _plan(
        obj(status=FAILED_OURS),
        config=config(arn=OTHER_ARN, client_id="x", owner=None),
        update=failed,
    )
    assert result.rule == "config_conflicts"
    assert result.calls == ()


def test_a_matching_config_seen_after_our_failed_association_is_adopted() -> None:
    failed = update("Failed", code="Unknown", message="m")
    result = _plan(obj(status=FAILED_OURS), config=config(arn=OTHER_ARN, owner=None), update=failed)
    assert result.rule == "tags_drifted"
    assert [e.reason for e in result.events] == ["Adopted", "TagsUpdated"]


def test_a_long_token_base_never_pushes_the_generation_or_last_update_out() -> None:
    long_base = "t" * 64
    first = obj(clientRequestToken=long_base)
    tokens = {
        association_token(first),
        association_token(obj(clientRequestToken=long_base, generation=2)),
        association_token(
            obj(clientRequestToken=long_base, status={"update": {"id": "u-1", "status": "Failed"}})
        ),
    }
    assert len(tokens) == 3, "generation and last update each change the token"
    assert all(len(token) <= 64 for token in tokens)
    assert association_token(first) == association_token(obj(clientRequestToken=long_base))


def test_two_objects_given_the_same_token_base_get_their_own_tokens() -> None:
    mine = obj(clientRequestToken="team-a")
    theirs = mine.model_copy(
        update={"metadata": mine.metadata.model_copy(update={"uid": "another-uid"})}
    )
    assert association_token(mine) != association_token(theirs)
    assert association_token(mine).startswith("team-a-")


def test_association_and_disassociation_tokens_never_meet() -> None:
    resource = obj(status=ours())
    assert association_token(resource) != disassociation_token(resource, config())
    assert "-d-" in disassociation_token(resource, config())


def test_a_failure_only_a_new_spec_fixes_is_held_even_while_eks_still_shows_the_config() -> None:
    failed = update("Failed", code="ConfigurationConflict", message="m")
    result = _plan(obj(status=IN_FLIGHT), config=config("CREATING"), update=failed)
    assert (result.rule, result.verdict.reason) == (
        "failed_config_lingers",
        "UpdateFailedConfigurationConflict",
    )
    assert result.status.hold is not None
    assert result.status.hold.until is None
    retryable = _plan(obj(status=IN_FLIGHT), config=config("CREATING"), update=FAILED_UNKNOWN)
    assert retryable.status.hold is None  # waits for EKS to collect the config, then retries
    assert retryable.verdict.kind is Kind.RETRY  # progress, not Stalled, while retries remain
    spent = _plan(
        obj(status={**IN_FLIGHT, "automaticRetries": 3}),
        config=config("CREATING"),
        update=FAILED_UNKNOWN,
    )
    assert spent.verdict.kind is Kind.STALL  # none left: a human is needed


def test_an_sts_error_reads_as_sts_naming_the_role() -> None:
    role = "arn:aws:iam::111111111111:role/x"
    denied = EksError(
        "AccessDenied", f"AssumeRole of {role} failed: not authorized", operation="AssumeRole"
    )
    result = _plan(obj(roleArn=role), error=denied)
    assert (result.verdict.reason, result.verdict.kind) == ("AccessDenied", Kind.STALL)
    assert result.verdict.message == f"AssumeRole of {role} failed: not authorized"


def test_the_issuer_finding_is_a_condition_and_a_warning_only_once() -> None:
    dns = IssuerCheck("https://login.example.com", UNREACHABLE, "no connection")
    first = _plan(obj(), config=None, checks=Checks(issuer=dns))
    verified = next(c for c in first.status.conditions if c.type == "IssuerVerified")
    assert (verified.status, verified.reason) == ("False", "IssuerUnreachable")
    assert ("Warning", "IssuerUnreachable") in [(e.type, e.reason) for e in first.events]
    again = _plan(
        obj(status=first.status.model_dump(mode="json", by_alias=True)),
        config=None,
        update=update(),
        checks=Checks(issuer=dns),
    )
    assert "IssuerUnreachable" not in [e.reason for e in again.events]
    fine = _plan(obj(), config=None, checks=Checks(issuer=IssuerCheck("https://x", message="ok")))
    verified = next(c for c in fine.status.conditions if c.type == "IssuerVerified")
    assert (verified.status, verified.reason) == ("True", "Verified")


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"oidc": {"clientId": "new"}}, "the issuer URL is unchanged"),
        ({"oidc": {"clientId": "new", "issuerUrl": "https://login.example.com/"}}, "unchanged"),
        ({"oidc": {"issuerUrl": "https://new.example.com"}}, "is not this object's"),
        (
            {
                "oidc": {"issuerUrl": "https://new.example.com"},
                "replacementPolicy": "DeleteBeforeCreate",
            },
            "spec.replacementPolicy is DeleteBeforeCreate",
        ),
    ],
)
def test_a_replacement_that_deletes_first_announces_the_outage_and_why(
    spec: dict[str, Any], why: str
) -> None:
    result = _plan(obj(status=ours(), **spec), config=config())
    assert result.rule == "oidc_changed"
    outage = [e for e in result.events if e.reason == "ReplacementOutage"]
    assert len(outage) == 1
    assert outage[0].type == "Warning"
    assert "no sign-in" in outage[0].message
    assert why in outage[0].message


def test_deleting_leaves_an_untagged_config_whose_arn_was_never_recorded() -> None:
    # E.g. one adoptionPolicy: Never left alone: it matches the spec, but it is not ours.
    result = _plan(obj(deleting=True, adoptionPolicy="Never"), config=config(owner=None))
    assert (result.rule, result.verdict.reason, result.calls) == ("not_owned", "NotOwned", ())


def test_our_tag_written_before_a_management_cluster_was_named_is_still_ours() -> None:
    resource = obj(status=ours())
    named = Observation(resource, identity=owner_of(resource, "mgmt"), config=config())
    result = plan(named, ctx())
    assert result.rule == "tags_drifted"  # the management cluster's tag is added
    assert result.calls == (Tag(ARN, {"eksoidc.io/management-cluster": "mgmt"}),)
    # Without the recorded ARN it could be another management cluster's object of that name.
    stranger = Observation(obj(), identity=owner_of(obj(), "mgmt"), config=config())
    assert plan(stranger, ctx()).rule == "owned_by_another"


def test_a_spec_fixed_while_the_failing_update_ran_is_associated_not_held() -> None:
    status = {**IN_FLIGHT, "updateGeneration": 1, "observedGeneration": 2}
    failed = update("Failed", code="ConfigurationConflict", message="m")
    result = _plan(obj(status=status, generation=2), config=None, update=failed)
    assert (result.rule, what(result)) == ("update_failed", ASSOCIATE)


def test_a_retried_disassociation_never_replays_the_failed_one() -> None:
    running = {"id": "d-1", "type": "DisassociateIdentityProviderConfig", "status": "InProgress"}
    resource = obj(
        status=ours(update=running), deleting=True, annotations={"eksoidc.io/retry": "1"}
    )
    failed = update("Failed", type_="DisassociateIdentityProviderConfig", id_="d-1", code="Unknown")
    result = _plan(resource, config=config(), update=failed)
    assert result.rule == "disassociation_failed"
    (call,) = result.calls
    assert isinstance(call, Disassociate)
    assert call.token != disassociation_token(resource, config())  # the unsalted, failed one


@pytest.mark.parametrize(
    ("resource", "wait"),
    [
        # Created at 12:00:00 (whole seconds): objects created up to 12:00:00.999 are known by
        # 12:00:02 with the default second of watch lag.
        (obj(created="2026-11-28T12:00:00Z"), 2.0),
        (obj(created="2026-11-28T11:59:59Z"), 1.0),
        (obj(created="2026-11-28T11:59:58Z"), 0.0),
        # Nothing to wait for: an object with something in EKS, or being deleted.
        (obj(created="2026-11-28T12:00:00Z", status=ours()), 0.0),
        (obj(created="2026-11-28T12:00:00Z", deleting=True), 0.0),
        (obj(), 0.0),
    ],
)
def test_a_new_object_waits_until_the_end_of_its_second_and_the_watch_lag(
    resource: OidcIdentityProvider, wait: float
) -> None:
    assert settle_wait(resource, NOW, Timings()) == wait


@pytest.mark.parametrize("policy", ["Full", "Observe"])
def test_a_config_not_granted_for_adoption_leaves_nothing_of_it_in_status(policy: str) -> None:
    result = _plan(
        obj(managementPolicy=policy),
        config=config(owner=None, client_id="theirs"),
        checks=Checks(),
    )
    assert result.verdict.reason == "AdoptionNotPermitted"
    status = result.status
    assert (status.identity_provider_config_arn, status.config_status) == (None, None)
    assert status.observed_config_arn is None
    assert "theirs" not in result.verdict.message
