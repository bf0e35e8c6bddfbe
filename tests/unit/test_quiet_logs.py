"""Log volume follows events, not passes: kopf's routine lines go to DEBUG, retries to INFO."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from eks_oidc_operator.__main__ import _QuietRoutine


@pytest.fixture(autouse=True)
def info_level() -> Iterator[None]:
    """The operator's own level when not run with --verbose."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield
    root.setLevel(level)


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)


@pytest.mark.parametrize(
    "message",
    [
        "Handler 'object-gauges' succeeded.",
        "Handler 'controls' succeeded.",
        "Timer 'poll' succeeded.",
        "Timer 'resync' succeeded.",
    ],
)
def test_a_routine_line_is_debug_and_dropped_unless_debugging(message: str) -> None:
    record = _record(logging.INFO, message)
    assert not _QuietRoutine().filter(record)
    assert record.levelname == "DEBUG"
    logging.getLogger().setLevel(logging.DEBUG)  # --verbose
    assert _QuietRoutine().filter(_record(logging.INFO, message))


def test_a_retry_decision_is_one_info_line() -> None:
    record = _record(
        logging.ERROR, "Handler 'reconcile' failed temporarily: ClusterNotFound: no cluster"
    )
    assert _QuietRoutine().filter(record)
    assert (record.levelno, record.levelname) == (logging.INFO, "INFO")


@pytest.mark.parametrize(
    ("level", "message"),
    [
        (logging.INFO, "Handler 'reconcile' succeeded."),
        (logging.INFO, "Creation is processed: 1 succeeded; 0 failed."),
        (logging.ERROR, "Handler 'reconcile' failed with an exception. Will retry."),
    ],
)
def test_news_and_real_errors_keep_their_level(level: int, message: str) -> None:
    record = _record(level, message)
    assert _QuietRoutine().filter(record)
    assert record.levelno == level
