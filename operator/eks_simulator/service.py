"""One simulator instance: the glue between protocols, faults, state, STS, clock, stats, file.

:meth:`Simulator.handle_eks` is the whole life of one EKS call, framework-free:
route -> fault before? -> parse/validate -> tick + execute -> fault after commit? -> save
-> respond. :meth:`Simulator.handle_sts` is the same for one STS call (parse/validate ->
AssumeRole -> respond; its refusals are rules of ``sts.py``, not HTTP-level faults).
Everything runs synchronously on the event loop thread, so each call is atomic
with respect to every other one (no locks, no lost updates under parallel clients).

The one exception is the issuer fetch (``fetchIssuers``): :meth:`Simulator.serve_eks` awaits
it *after* the call has committed, and hands its outcome back to the state in a second
atomic step. Other calls run meanwhile; the state keeps the update from finishing before
the outcome is in.

The control methods back the ``/_sim/*`` endpoints (see ``app.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eks_simulator import issuers, persistence
from eks_simulator.clock import SimClock
from eks_simulator.config import ConfigPatch, SimConfig
from eks_simulator.entities import UpdateType
from eks_simulator.errors import EksError, StsError
from eks_simulator.faults import FaultPlan, FaultRule
from eks_simulator.protocol import EksProtocol, WireResponse
from eks_simulator.state import (
    ASSOCIATE,
    DISASSOCIATE,
    EksState,
    IssuerCheck,
    NewCluster,
    PlannedFailure,
)
from eks_simulator.stats import JOURNAL_SIZE, CallRecord, Stats
from eks_simulator.sts import STS_RULE_KINDS, Sts
from eks_simulator.sts_protocol import StsProtocol
from eks_simulator.throttle import AccountThrottle, account_of

log = logging.getLogger(__name__)

MUTATING = frozenset(
    {
        "CreateCluster",
        "DeleteCluster",
        "AssociateIdentityProviderConfig",
        "DisassociateIdentityProviderConfig",
        "TagResource",
        "UntagResource",
    }
)
"""Operations after which the state file is rewritten. (Lifecycle transitions need no
save: they are recomputed from the deadlines stored on the entities.)"""

UNKNOWN_OPERATION = "UnknownOperation"

_SIGNER = re.compile(r"Credential=([^/,\s]+)/")
"""The access key id in a SigV4 ``Authorization`` header (``Credential=AKID/date/...``)."""
_SCOPE_REGION = re.compile(r"Credential=[^/,\s]+/[^/,\s]+/([^/,\s]+)/")
"""The region a SigV4 request was signed for (``Credential=AKID/date/REGION/eks/...``)."""

PLANNED_FAILURE_KINDS: dict[str, tuple[UpdateType, str]] = {
    "fail-association": (ASSOCIATE, "The identity provider could not be reached"),
    "fail-disassociation": (
        DISASSOCIATE,
        "The identity provider config could not be removed from the cluster",
    ),
}
"""Fault kind -> the operation it fails and its default ``errorMessage``. EKS does not
document the errors either operation ends with, so both messages are our own."""


class Simulator:
    """A running simulated EKS (one account, one region).

    Parameters
    ----------
    config
        Initial configuration (the state file's saved configuration replaces it).
    clock
        The simulated clock.
    faults
        Initial HTTP-level fault rules.
    state_file
        Where to persist state, or ``None`` to keep it in memory only.
    seed
        Seed for ids, jitter and rate-based faults.
    journal_size
        How many recent calls the journal keeps (a fleet benchmark reads every call of a run).
    """

    def __init__(
        self,
        config: SimConfig,
        *,
        clock: SimClock | None = None,
        faults: FaultPlan | None = None,
        state_file: Path | None = None,
        seed: int | None = None,
        journal_size: int = JOURNAL_SIZE,
    ) -> None:
        self.protocol = EksProtocol()
        self.sts_protocol = StsProtocol()
        self.sts = Sts(seed=seed)
        self.clock = clock or SimClock()
        self._initial_config = config
        self.state = EksState(config, seed=seed)
        self.faults = faults or FaultPlan(seed=seed)
        self.stats = Stats(journal_size)
        self.throttle = AccountThrottle()
        self.state_file = state_file

    # ------------------------------------------------------------------ persistence

    def load(self) -> bool:
        """Restore from the state file, if there is one. Returns whether state was loaded."""
        if self.state_file is None:
            return False
        saved = persistence.load(self.state_file)
        if saved is None:
            return False
        self.clock.restore(saved.clock)
        self.state.config = saved.config
        self.state.restore(saved.state)
        return True

    def save(self) -> None:
        """Write the state file now (no-op without one)."""
        if self.state_file is None:
            return
        persistence.save(
            self.state_file,
            persistence.SavedState(
                clock=self.clock.snapshot(), config=self.state.config, state=self.state.snapshot()
            ),
        )

    # ------------------------------------------------------------------ EKS calls

    async def serve_eks(
        self,
        method: str,
        raw_path: str,
        query: Mapping[str, list[str]],
        body: bytes,
        headers: Mapping[str, str],
    ) -> WireResponse:
        """:meth:`handle_eks`, then the issuer fetch of an association it accepted.

        The answer waits for the fetch so that, once a client holds the update, its outcome
        is settled: advancing the clock past the deadline then shows how it ended, without a
        race against the fetch.
        """
        response = self.handle_eks(method, raw_path, query, body, headers)
        # No await in between: the checks taken are exactly those this call queued.
        checks = self.state.take_issuer_checks()
        if checks:
            await self._fetch_issuers(checks)
        return response

    async def _fetch_issuers(self, checks: list[IssuerCheck]) -> None:
        ca_file = self.state.config.issuer_ca_file
        causes = await asyncio.gather(
            *(issuers.fetch_problem(check.issuer_url, ca_file=ca_file) for check in checks)
        )
        now = self.clock.now()
        for check, cause in zip(checks, causes, strict=True):
            log.info("issuer %s: %s", check.issuer_url, cause or "usable")
            self.state.resolve_issuer_check(check, cause, now)
        self.save()

    def handle_eks(
        self,
        method: str,
        raw_path: str,
        query: Mapping[str, list[str]],
        body: bytes,
        headers: Mapping[str, str],
    ) -> WireResponse:
        """Serve one EKS API call and count it."""
        request_id = str(uuid.uuid4())
        routed = self.protocol.route(method, raw_path)
        if routed is None:
            response = self.protocol.error(
                EksError(UNKNOWN_OPERATION, f"No EKS operation for {method} {raw_path}"), request_id
            )
            response = WireResponse(404, response.body, response.headers)
            self._record(UNKNOWN_OPERATION, response.status, headers)
            return response
        operation, labels = routed
        name = operation.name
        params: dict[str, Any] = {}
        try:
            if not self._admitted(headers):
                params = self._lenient_params(body)
                raise _Injected("ThrottlingException", "Rate exceeded", None)
            injected = self.faults.before(name)
            if injected is not None:
                # A front-door fault happens before the request is even parsed.
                params = self._lenient_params(body)
                raise _Injected(injected.code, injected.message, injected.retry_after_ms)
            params = self.protocol.parse(operation, labels, query, body)
            result = self.state.execute(name, params, self.clock.now())
            if name in MUTATING:
                self.save()
            lost = self.faults.after_commit(name)
            if lost is not None:
                raise _Injected(lost.code, lost.message, None)
            response = self.protocol.success(operation, result, request_id)
        except _Injected as fault:
            response = self.protocol.error(
                fault.error, request_id, retry_after_ms=fault.retry_after_ms
            )
        except EksError as error:
            response = self.protocol.error(error, request_id)
        except Exception:
            log.exception("internal error in %s", name)
            response = self.protocol.error(
                EksError("ServerException", "An internal error occurred in the simulator"),
                request_id,
            )
        token = params.get("clientRequestToken")
        self._record(
            name,
            response.status,
            headers,
            cluster=labels.get("name") or labels.get("clusterName"),
            client_request_token=token if isinstance(token, str) else None,
        )
        return response

    # ------------------------------------------------------------------ STS calls

    def handle_sts(self, body: bytes, headers: Mapping[str, str]) -> WireResponse:
        """Serve one STS query-protocol call (``POST /``, the form's ``Action``) and count it."""
        request_id = str(uuid.uuid4())
        form = self.sts_protocol.form(body)
        signer = _signer(headers)
        try:
            operation, params = self.sts_protocol.parse(form)
            caller = self.sts.caller_arn(signer, self.state.config)
            result = self.sts.assume_role(params, caller=caller, now=self.clock.now())
            response = self.sts_protocol.success(operation, result, request_id)
        except StsError as error:
            response = self.sts_protocol.error(error, request_id)
        except Exception:
            log.exception("internal error in STS %s", form.get("Action"))
            response = self.sts_protocol.error(
                StsError("InternalFailure", "An internal error occurred in the simulator"),
                request_id,
            )
        # The form as sent, not as validated: a refused request is the one a test asks about.
        self._record(
            self.sts_protocol.operation_name(form) or UNKNOWN_OPERATION,
            response.status,
            headers,
            role_arn=form.get("RoleArn"),
            role_session_name=form.get("RoleSessionName"),
            external_id=form.get("ExternalId"),
        )
        return response

    def _admitted(self, headers: Mapping[str, str]) -> bool:
        """Whether the signer's account and region have a token for this call (always, with no
        rate)."""
        config = self.state.config
        if config.account_rate is None:
            return True
        session = self.sts.session(_signer(headers))
        account = account_of(session.role_arn if session else None, config.account_id)
        # Per account and region, as AWS throttles: the simulator answers every region a
        # client signs for (one account's fleet spread over regions has a bucket per region).
        signed = _SCOPE_REGION.search(headers.get("Authorization", ""))
        region = signed.group(1) if signed else config.region
        return self.throttle.admit(f"{account}/{region}", config.account_rate)

    @staticmethod
    def _lenient_params(body: bytes) -> dict[str, Any]:
        """Best-effort body (for the journal) of a request a fault rejected unparsed."""
        try:
            document = json.loads(body) if body else {}
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    def _record(
        self, operation: str, status: int, headers: Mapping[str, str], **fields: str | None
    ) -> None:
        """Count one call; ``fields`` are more :class:`CallRecord` members."""
        signer = _signer(headers)
        session = self.sts.session(signer)
        if session is not None and "role_arn" not in fields:
            # Signed with credentials this simulator's AssumeRole issued: say as whom.
            fields = {
                "role_arn": session.role_arn,
                "role_session_name": session.session_name,
                **fields,
            }
        record = {
            "operation": operation,
            "status": status,
            "attempt": headers.get("amz-sdk-request"),
            "at": self.clock.now(),
            "access_key_id": signer,
            **fields,
        }
        self.stats.record(CallRecord.model_validate(record))

    # ------------------------------------------------------------------ control

    def advance(self, seconds: float) -> float:
        """Move the clock forward and apply every transition that became due."""
        now = self.clock.advance(seconds)
        self.state.tick(now)
        self.save()
        return now

    def configure(self, patch: ConfigPatch) -> SimConfig:
        """Apply a runtime configuration change."""
        if patch.issuer_ca_file is not None:
            # Refuse an unreadable bundle now, not at the first association it would fail.
            issuers.ssl_context(patch.issuer_ca_file)
        self.state.config = patch.apply(self.state.config)
        self.save()
        return self.state.config

    def add_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Activate one fault from its JSON description (see ``docs/simulator.md``)."""
        kind = spec.get("kind")
        now = self.clock.now()
        if kind in STS_RULE_KINDS:
            return self.sts.add(spec).model_dump(by_alias=True, exclude_none=True)
        if kind == "phantom-update":
            update_id = self.state.start_phantom_update(
                str(spec["cluster"]), float(spec.get("seconds", 60)), now
            )
            self.save()
            return {"kind": kind, "updateId": update_id}
        if kind in PLANNED_FAILURE_KINDS:
            operation, message = PLANNED_FAILURE_KINDS[kind]
            planned = PlannedFailure.model_validate(
                {
                    "operation": operation,
                    "cluster": spec.get("cluster"),
                    "error_code": spec.get("errorCode", "Unknown"),
                    "error_message": spec.get("errorMessage", message),
                    "remaining": spec.get("count", 1),
                }
            )
            self.state.plan_failure(planned)
            self.save()
            # The kind already says which operation fails.
            return {"kind": kind, **planned.model_dump(exclude={"operation"})}
        rule = FaultRule.model_validate(spec)
        self.faults.add(rule)
        return rule.model_dump(by_alias=True, exclude_none=True)

    def describe_faults(self) -> dict[str, Any]:
        """Active faults of every kind."""
        now = self.clock.now()
        return {
            "rules": [r.model_dump(by_alias=True, exclude_none=True) for r in self.faults.rules],
            "assumeRole": self.sts.describe(),
            "failAssociations": self._planned_failures(ASSOCIATE),
            "failDisassociations": self._planned_failures(DISASSOCIATE),
            "phantomUpdates": {
                c.name: {"updateId": c.phantom_update_id, "until": c.phantom_until}
                for c in self.state.clusters.values()
                if c.phantom_until is not None and c.phantom_until > now
            },
        }

    def _planned_failures(self, operation: UpdateType) -> list[dict[str, Any]]:
        return [
            f.model_dump(by_alias=True, exclude={"operation"})
            for f in self.state.pending_failures
            if f.operation == operation
        ]

    def clear_faults(self) -> None:
        """Remove every fault (rules, STS refusals, planned failures and phantom updates)."""
        self.faults.clear()
        self.sts.clear()
        self.state.pending_failures.clear()
        for cluster in self.state.clusters.values():
            cluster.phantom_update_id = None
            cluster.phantom_until = None
        self.save()

    def create_cluster(
        self,
        name: str,
        *,
        version: str | None = None,
        status: str = "ACTIVE",
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a cluster directly (ACTIVE by default, or CREATING), bypassing the quota."""
        if status not in ("ACTIVE", "CREATING"):
            raise EksError("InvalidParameterException", "status must be ACTIVE or CREATING")
        now = self.clock.now()
        self.state.tick(now)
        cluster = self.state.new_cluster(
            NewCluster(
                name,
                version=version,
                status="ACTIVE" if status == "ACTIVE" else "CREATING",
                tags=tags,
            ),
            now=now,
        )
        self.save()
        return cluster.to_wire()

    def delete_cluster(self, name: str) -> bool:
        """Remove a cluster immediately (no DELETING phase)."""
        existed = self.state.remove_cluster(name)
        self.save()
        return existed

    def reset(self) -> None:
        """Forget all resources, faults, issued credentials, counters and configuration changes.

        The clock keeps its time: it never runs backwards.
        """
        self.state.reset()
        self.state.config = self._initial_config
        self.faults.clear()
        self.sts.reset()
        self.stats.reset()
        self.throttle = AccountThrottle()
        self.save()


def _signer(headers: Mapping[str, str]) -> str | None:
    """The access key id that signed a request, if it is SigV4-signed."""
    found = _SIGNER.search(headers.get("Authorization", ""))
    return found.group(1) if found else None


class _Injected(Exception):  # noqa: N818 - internal control flow, not an error type
    def __init__(self, code: str, message: str, retry_after_ms: int | None) -> None:
        super().__init__(message)
        self.error = EksError(code, message)
        self.retry_after_ms = retry_after_ms
