"""Polling until something holds: fail saying what was awaited, never hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from eks_oidc_testing.operator_process import OperatorProcess


def eventually(
    what: str,
    probe: Callable[[], Any],
    timeout: float = 120,
    interval: float = 0.3,
    hint: Callable[[], str] = lambda: "",
) -> Any:
    """Poll ``probe`` until it returns something truthy, else fail saying what was awaited, the
    last answer, and what ``hint`` says at that moment (an operator's log, say)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; last: {last!r}\n{hint()}")


def wait_for(
    what: str,
    probe: Callable[[], Any],
    operator: OperatorProcess,
    timeout: float = 60,
    interval: float = 0.3,
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with the operator's log."""
    return eventually(
        what, probe, timeout, interval, hint=lambda: f"--- operator log:\n{operator.log_tail()}"
    )
