"""Log volume follows events, not passes: kopf's routine lines go to DEBUG, retries to INFO."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from eks_oidc_operator.__main__ import _QuietKnownFailures, _QuietRoutine, quiet_probes


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


def _at(logger: str, level: int, message: str, *, traceback: bool = False) -> logging.LogRecord:
    record = logging.LogRecord(logger, level, __file__, 1, message, None, None)
    if traceback:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            import sys

            record.exc_info = sys.exc_info()
    return record


def test_an_event_refused_in_a_terminating_namespace_is_one_info_line() -> None:
    # kopf retried the 403 with an ERROR per attempt: nine lines per event.
    forbidden = (
        "APIForbiddenError('events is forbidden: unable to create new content in namespace t-1 "
        "because it is being terminated')"
    )
    retry = _at(
        "kopf._core.engines.posting",
        logging.ERROR,
        f"Request attempt #1/9 failed; will retry: POST /api/v1/namespaces/t-1/events "
        f"-> {forbidden}",
    )
    final = _at(
        "kopf._core.engines.posting",
        logging.WARNING,
        f"Failed to post an event. Ignoring and continuing. Message: {forbidden}",
    )
    quiet = _QuietKnownFailures()
    assert not quiet.filter(retry)
    assert quiet.filter(final)
    assert final.levelname == "INFO"


def test_a_failed_assumed_role_refresh_loses_its_traceback() -> None:
    mandatory = _at(
        "botocore.credentials",
        logging.WARNING,
        "Refreshing temporary credentials failed during mandatory refresh period.",
        traceback=True,
    )
    advisory = _at(
        "botocore.credentials",
        logging.WARNING,
        "Refreshing temporary credentials failed during advisory refresh period.",
        traceback=True,
    )
    quiet = _QuietKnownFailures()
    assert not quiet.filter(mandatory)  # raised, and reported by the operator itself
    assert quiet.filter(advisory)
    assert advisory.exc_info is None
    assert advisory.levelname == "WARNING"
    other = _at("kopf._core.engines.posting", logging.ERROR, "something else", traceback=True)
    assert quiet.filter(other)
    assert other.exc_info is not None


def test_liveness_probes_are_not_logged_at_info() -> None:
    access = logging.getLogger("aiohttp.access")
    level = access.level
    try:
        assert access.isEnabledFor(logging.INFO)  # aiohttp's default under the root's INFO
        quiet_probes()
        assert not access.isEnabledFor(logging.INFO)
        assert access.isEnabledFor(logging.WARNING)
    finally:
        access.setLevel(level)
