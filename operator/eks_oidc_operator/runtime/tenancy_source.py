"""The tenancy policy file, read again whenever it changes. I/O; the decision is pure
(:mod:`eks_oidc_operator.reconcile.guards.tenancy`).

The chart mounts the policy from a ConfigMap; kubelet swaps the file when the ConfigMap
changes, so a pass checks the file's identity (a ``stat``, no read) and parses it only when that
changed.

A policy that cannot be read or parsed is the admin's problem, and stays the admin's: the last
valid policy stays in force (flipping every object fleet-wide to NotPermitted turned every
dashboard red over one typo), and the problem is reported where only the admin looks (the
operator's log, a metric, an event on the policy's ConfigMap). Tenants never see its text: a
validation error quotes the policy, with other teams' role ARNs and external ids. Only when no
valid policy was ever read is nothing permitted, in words that give nothing away: failing open
would hand every namespace every role.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from eks_oidc_operator.models.tenancy import DEFAULT_POLICY, TenancyPolicy

_log = logging.getLogger(__name__)

Loaded = TenancyPolicy | str
"""A policy, or why there is none (every object is then refused with that message)."""

NO_VALID_POLICY = (
    "the operator has no valid tenancy policy, so nothing is permitted; its admin is told "
    "(operator log, metric eks_oidc_tenancy_policy_valid, events on the policy's ConfigMap)"
)
"""What tenants are told while no valid policy was ever read: nothing of the file."""


@dataclass(frozen=True)
class PolicyReport:
    """What one read of the policy file found, for the admin's signals."""

    path: str
    valid: bool
    rules: int = 0
    wildcards: tuple[str, ...] = ()
    """Rules that grant every namespace or any role (see ``TenancyPolicy.wildcards``)."""
    problem: str | None = None
    """Why the file was refused, in full (for the log and the ConfigMap's event only)."""
    kept: bool = False
    """An earlier valid policy stays in force."""


Reporter = Callable[[PolicyReport], None]


class PolicySource:
    """The current policy of ``path``; without a path, ``fixed`` (by default the built-in
    policy, which permits nothing)."""

    def __init__(
        self,
        path: str | None,
        report: Reporter | None = None,
        fixed: TenancyPolicy = DEFAULT_POLICY,
    ) -> None:
        self._path = Path(path) if path is not None else None
        self._fixed = fixed
        self._seen: tuple[int, int, int] | str | None = None
        """The file's identity last seen, or why it could not be read (None: never looked)."""
        self._valid: TenancyPolicy | None = None
        self._report = report
        self._lock = threading.Lock()

    def current(self) -> Loaded:
        """The policy now in force; the file is re-read only when it changed."""
        if self._path is None:
            return self._fixed
        with self._lock:
            try:
                info = self._path.stat()
                state: tuple[int, int, int] | str = (info.st_ino, info.st_mtime_ns, info.st_size)
            except OSError as error:
                state = f"cannot be read: {error.strerror}"
            if state != self._seen:  # told once per change, not at every pass
                self._seen = state
                self._tell(self._read() if isinstance(state, tuple) else state)
            return self._valid if self._valid is not None else NO_VALID_POLICY

    def _read(self) -> str | None:
        """Parse the file: ``None`` and the policy kept as valid, or what is wrong with it."""
        assert self._path is not None
        try:
            with self._path.open(encoding="utf-8") as file:
                raw = yaml.safe_load(file) or {}
            self._valid = TenancyPolicy.model_validate(raw)
        except (OSError, yaml.YAMLError, ValidationError) as error:
            return f"is invalid: {error}"
        return None

    def _tell(self, problem: str | None) -> None:
        path = str(self._path)
        if problem is not None:
            kept = self._valid is not None
            _log.error(
                "tenancy policy %s %s; %s",
                path,
                problem,
                "the last valid policy stays in force" if kept else "nothing is permitted",
            )
            report = PolicyReport(path, valid=False, problem=problem, kept=kept)
        else:
            policy = self._valid or DEFAULT_POLICY
            wildcards = policy.wildcards()
            _log.info("tenancy policy %s: %d rule(s)", path, len(policy.rules))
            if wildcards:
                _log.warning(
                    "tenancy policy %s: rule(s) %s grant every namespace or any role; a typo "
                    "in one tenant's object then reaches every cluster the identity can",
                    path,
                    ", ".join(wildcards),
                )
            report = PolicyReport(path, valid=True, rules=len(policy.rules), wildcards=wildcards)
        if self._report is not None:
            self._report(report)
