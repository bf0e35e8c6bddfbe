"""Permanent refusals stay stopped: EKS calls an object makes once it is Stalled (target: 0).

Starts the local control plane, the EKS simulator and the operator as a real process with its
default schedule except a short resync (``--resync``, default 5 s, so that the window spans
dozens of resyncs), and sets up five refusals at once, each on its own EKS cluster and in its
own namespace:

1. ``ProviderLimitReached``: a Kubernetes 1.31 cluster that already has a config (``okta``,
   associated directly through boto3 and ACTIVE before the object is applied);
2. ``ConfigOwnedByAnother``: object A (config name ``corp``, ``deletionPolicy: Retain``) is
   Ready, then object B in another namespace names the same config; once B is Stalled, A is
   deleted (its config stays, tagged as A's), so only B is left on that cluster;
3. ``InvalidParameterException``: the issuer is the cluster's own IRSA issuer;
4. ``ConfigurationConflict``: a ``fail-association`` fault fails the association with a code
   that is never retried automatically (so its automatic retries are spent at once);
5. ``NotPermitted``: a ``spec.roleArn`` the default tenancy policy grants nobody (expected: no
   EKS call at all).

For each it prints the condition reason seen, the EKS calls on its cluster (from the
simulator's call journal, by timestamp) from the first apply to the start of its window, and
the calls during its window. A window starts when the object is first seen Stalled (for 2:
once A is gone as well) and all windows end together, ``--window`` seconds after the last one
started, so each lasts at least ``--window`` seconds; its length is printed.

Usage: ``.venv/bin/python benchmarks/stalled_calls.py [--window 300] [--resync 5]``
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eks_oidc_testing.stack import Stack, local_stack

NAME = "idp"
ROLE = "arn:aws:iam::111111111111:role/x"
SETUP_TIMEOUT_SECONDS = 300.0
POLL_SECONDS = 1.0
JOURNAL_SIZE = 10_000
"""The simulator's journal ring (``eks_simulator.stats.JOURNAL_SIZE``)."""

Objects = dict[tuple[str, str], dict[str, dict[str, Any]]]
"""(namespace, name) -> condition type -> condition, of every object that exists."""


@dataclass
class Situation:
    """One refusal: its cluster, its object, and when its window started."""

    label: str
    expected: str
    cluster: str
    namespace: str
    spec: dict[str, Any]
    owner_namespace: str | None = None
    """Situation 2 only: the namespace of the object that owns the config."""
    phase: str = "applied"
    applied_at: float = 0.0
    window_start: float | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)


def _manifest(namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "eksoidc.io/v1alpha1",
        "kind": "OidcIdentityProvider",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": spec,
    }


def _spec(cluster: str, issuer: str = "https://login.example.com", **extra: Any) -> dict[str, Any]:
    oidc = {"issuerUrl": issuer, "clientId": "k", **extra.pop("oidc", {})}
    return {"clusterName": cluster, "oidc": oidc, **extra}


def _apply(stack: Stack, namespace: str, spec: dict[str, Any]) -> None:
    stack.kubectl("apply", "-f", "-", stdin=json.dumps(_manifest(namespace, spec)))


def _objects(stack: Stack) -> Objects:
    items = json.loads(stack.kubectl("get", "oidcidp", "-A", "-o", "json"))["items"]
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"]): {
            c["type"]: c for c in o.get("status", {}).get("conditions", [])
        }
        for o in items
    }


def _true(conditions: dict[str, dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    found = (conditions or {}).get(type_)
    return found if found and found.get("status") == "True" else None


def _summary(conditions: dict[str, dict[str, Any]] | None) -> str:
    if conditions is None:
        return "object gone"
    parts = [f"{t}={c.get('status')}({c.get('reason', '')})" for t, c in conditions.items()]
    return ", ".join(parts) or "no conditions"


def _prepare_clusters(stack: Stack) -> str:
    """Create the five clusters, the okta config and the fault; returns cluster 3's issuer."""
    eks = stack.sim.boto3_client()
    for cluster in ("owned", "invalid", "failed", "notpermitted"):
        stack.sim.create_cluster(cluster, "1.33")
    stack.sim.create_cluster("limit", "1.31")
    eks.associate_identity_provider_config(
        clusterName="limit",
        oidc={
            "identityProviderConfigName": "okta",
            "issuerUrl": "https://okta.example.com",
            "clientId": "k",
        },
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        config = eks.describe_identity_provider_config(
            clusterName="limit", identityProviderConfig={"type": "oidc", "name": "okta"}
        )["identityProviderConfig"]["oidc"]
        if config.get("status") == "ACTIVE":
            break
        time.sleep(1)
    stack.sim.faults(
        {
            "kind": "fail-association",
            "cluster": "failed",
            "errorCode": "ConfigurationConflict",
            "count": 1,
        }
    )
    issuer: str = eks.describe_cluster(name="invalid")["cluster"]["identity"]["oidc"]["issuer"]
    return issuer


def _situations(issuer: str) -> list[Situation]:
    return [
        Situation(
            "1 provider limit", "ProviderLimitReached", "limit", "stall-limit", _spec("limit")
        ),
        Situation(
            "2 owned by another",
            "ConfigOwnedByAnother",
            "owned",
            "stall-owned-b",
            _spec("owned", oidc={"identityProviderConfigName": "corp"}),
            owner_namespace="stall-owned-a",
            phase="owner",
        ),
        Situation(
            "3 invalid parameter",
            "InvalidParameterException",
            "invalid",
            "stall-invalid",
            _spec("invalid", issuer),
        ),
        Situation(
            "4 failed update, retries spent",
            "ConfigurationConflict",
            "failed",
            "stall-failed",
            _spec("failed"),
        ),
        Situation(
            "5 not permitted",
            "NotPermitted",
            "notpermitted",
            "stall-notpermitted",
            _spec("notpermitted", roleArn=ROLE),
        ),
    ]


def _start(stack: Stack, situation: Situation) -> None:
    """Apply the situation's first object (A for situation 2)."""
    situation.applied_at = time.time()
    if situation.owner_namespace is not None:
        owner_spec = {**situation.spec, "deletionPolicy": "Retain"}
        _apply(stack, situation.owner_namespace, owner_spec)
    else:
        _apply(stack, situation.namespace, situation.spec)


def _step_owned(stack: Stack, situation: Situation, objects: Objects, now: float) -> None:
    """Situation 2: A Ready -> apply B; B Stalled -> delete A; A gone -> window starts."""
    assert situation.owner_namespace is not None
    owner = (situation.owner_namespace, NAME)
    if situation.phase == "owner" and _true(objects.get(owner), "Ready"):
        situation.notes.append(f"B applied {now - situation.applied_at:.1f} s after A")
        _apply(stack, situation.namespace, situation.spec)
        situation.phase = "applied"
    elif situation.phase == "applied":
        stalled = _true(objects.get((situation.namespace, NAME)), "Stalled")
        if stalled:
            situation.reason = str(stalled.get("reason"))
            stack.kubectl(
                "delete", f"oidcidp/{NAME}", "-n", situation.owner_namespace, "--wait=false"
            )
            situation.phase = "deleting"
    elif situation.phase == "deleting" and owner not in objects:
        situation.window_start = now


def _step(stack: Stack, situation: Situation, objects: Objects, now: float) -> None:
    if situation.window_start is not None:
        return
    if situation.owner_namespace is not None:
        _step_owned(stack, situation, objects, now)
        return
    stalled = _true(objects.get((situation.namespace, NAME)), "Stalled")
    if stalled:
        situation.reason = str(stalled.get("reason"))
        situation.window_start = now


def _set_up(stack: Stack, situations: list[Situation]) -> None:
    """Apply everything, then advance each situation until its window starts (or time is up)."""
    for situation in situations:
        _start(stack, situation)
    deadline = time.monotonic() + SETUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        objects, now = _objects(stack), time.time()
        for situation in situations:
            _step(stack, situation, objects, now)
        if all(s.window_start is not None for s in situations):
            return
        time.sleep(POLL_SECONDS)
    objects, now = _objects(stack), time.time()
    for situation in situations:
        if situation.window_start is None:
            seen = _summary(objects.get((situation.namespace, NAME)))
            situation.notes.append(f"not Stalled after {SETUP_TIMEOUT_SECONDS:.0f} s: {seen}")
            situation.reason = situation.reason or "(not Stalled)"
            situation.window_start = now


def _calls(journal: list[dict[str, Any]], cluster: str, start: float, end: float) -> Counter[str]:
    """EKS calls on ``cluster`` with ``start <= at < end``, per operation."""
    return Counter(
        call["operation"]
        for call in journal
        if call.get("cluster") == cluster and start <= call["at"] < end
    )


def _report(situation: Situation, journal: list[dict[str, Any]], end: float) -> int:
    """Print one situation's figures; returns its calls during the window."""
    assert situation.window_start is not None
    before = _calls(journal, situation.cluster, situation.applied_at, situation.window_start)
    during = _calls(journal, situation.cluster, situation.window_start, end)
    mark = "" if situation.reason == situation.expected else f" (expected {situation.expected})"
    print(f"{situation.label}: reason {situation.reason}{mark}")
    print(f"  EKS calls before the window (from first apply): {before.total()} {dict(before)}")
    print(
        f"  EKS calls during the window: {during.total()} {dict(during)}, "
        f"window {end - situation.window_start:.0f} s"
    )
    if during:
        offsets = sorted(
            round(call["at"] - situation.window_start, 1)
            for call in journal
            if call.get("cluster") == situation.cluster
            and situation.window_start <= call["at"] < end
        )
        print(f"  their times, s after the window start: {offsets[:30]}")
    for note in situation.notes:
        print(f"  note: {note}")
    return during.total()


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--window", type=float, default=300.0)
    parser.add_argument("--resync", type=float, default=5.0)
    args = parser.parse_args()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    with local_stack(associate_seconds=2, disassociate_seconds=2) as stack:
        situations = _situations(_prepare_clusters(stack))
        for namespace in {s.namespace for s in situations} | {"stall-owned-a"}:
            stack.kubectl("create", "namespace", namespace)
        operator = stack.operator({"EKS_OIDC_RESYNC_SECONDS": str(args.resync)})
        _set_up(stack, situations)
        last = max(s.window_start or 0.0 for s in situations)
        time.sleep(max(0.0, last + args.window - time.time()))
        end = time.time()
        journal = stack.sim.requests()
        final = _objects(stack)
        operator.stop()
        print(
            f"operator defaults except EKS_OIDC_RESYNC_SECONDS={args.resync:g} "
            f"(window {args.window:g} s = ~{args.window / args.resync:.0f} resyncs); "
            "simulator associations of 2 s"
        )
        during = 0
        for situation in situations:
            during += _report(situation, journal, end)
            print(f"  at the end: {_summary(final.get((situation.namespace, NAME)))}")
        unattributed = sum(1 for c in journal if c.get("cluster") is None and c["at"] >= last)
        print(f"EKS calls during the window in all: {during} (+{unattributed} naming no cluster)")
        if len(journal) >= JOURNAL_SIZE:
            print(f"warning: the journal is full ({JOURNAL_SIZE} calls): early calls are lost")
    return 0 if all(s.reason == s.expected for s in situations) else 1


if __name__ == "__main__":
    sys.exit(main())
