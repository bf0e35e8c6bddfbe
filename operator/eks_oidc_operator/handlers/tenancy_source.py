"""The tenancy policy file, read again whenever it changes. I/O; the decision is pure
(:mod:`eks_oidc_operator.reconcile.tenancy`).

The chart mounts the policy from a ConfigMap; kubelet swaps the file when the ConfigMap
changes, so a pass checks the file's identity (a ``stat``, no read) and parses it only when that
changed. A policy that cannot be read or parsed permits nothing: failing open would hand every
namespace every role.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import yaml
from pydantic import ValidationError

from eks_oidc_operator.models.tenancy import DEFAULT_POLICY, TenancyPolicy

_log = logging.getLogger(__name__)

Loaded = TenancyPolicy | str
"""A policy, or why there is none (every object is then refused with that message)."""


class PolicySource:
    """The current policy of ``path`` (the built-in default when ``path`` is ``None``)."""

    def __init__(self, path: str | None) -> None:
        self._path = Path(path) if path is not None else None
        self._seen: tuple[int, int, int] | None = None
        self._loaded: Loaded = DEFAULT_POLICY
        self._lock = threading.Lock()

    def current(self) -> Loaded:
        """The policy now in force; re-read only when the file changed."""
        if self._path is None:
            return DEFAULT_POLICY
        with self._lock:
            try:
                info = self._path.stat()
                seen = (info.st_ino, info.st_mtime_ns, info.st_size)
            except OSError as error:
                return f"tenancy policy {self._path} cannot be read: {error.strerror}"
            if seen != self._seen:
                self._loaded = self._read()
                self._seen = seen
            return self._loaded

    def _read(self) -> Loaded:
        assert self._path is not None
        try:
            with self._path.open(encoding="utf-8") as file:
                raw = yaml.safe_load(file) or {}
            policy = TenancyPolicy.model_validate(raw)
        except (OSError, yaml.YAMLError, ValidationError) as error:
            _log.error("tenancy policy %s refused, nothing is permitted: %s", self._path, error)
            return f"tenancy policy {self._path} is invalid, so nothing is permitted: {error}"
        _log.info("tenancy policy %s: %d rule(s)", self._path, len(policy.rules))
        return policy
