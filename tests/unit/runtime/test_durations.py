"""The book of what EKS's updates took lately: each ended update's span, from the last look that
saw it running to the look that saw it end, per account, region and kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eks_oidc_operator import constants
from eks_oidc_operator.models import EksUpdate, OidcIdentityProviderStatus
from eks_oidc_operator.reconcile.timing import Window
from eks_oidc_operator.runtime.pacing.durations import KEPT, UpdateDurations

T0 = datetime(2026, 12, 7, tzinfo=UTC)
KEY = ("", "us-west-2")


def _status(
    update_id: str, state: str, kind: str = constants.UPDATE_ASSOCIATE
) -> OidcIdentityProviderStatus:
    update = EksUpdate(id=update_id, type=kind, status=state, created_at=T0)
    return OidcIdentityProviderStatus(update=update)


def _run(book: UpdateDurations, update_id: str, looks: list[float], ended: str) -> None:
    """Passes looking at one update at ``looks`` seconds after its creation, the last seeing
    it ``ended``."""
    before = OidcIdentityProviderStatus()
    for i, at in enumerate(looks):
        state = ended if i == len(looks) - 1 else constants.UPDATE_IN_PROGRESS
        after = _status(update_id, state)
        book.observe(KEY, before, after, T0 + timedelta(seconds=at))
        before = after


def test_an_update_seen_running_then_ended_teaches_its_span() -> None:
    book = UpdateDurations()
    _run(book, "u1", [0, 30, 900, 920], "Successful")  # ended in 900-920: middle 910
    _run(book, "u2", [0, 1500, 1520], "Successful")  # ended in 1500-1520
    # Opens at the earliest middle less the range over the count: 910 - (1520 - 910) / 2.
    assert book.windows(KEY) == {
        constants.UPDATE_ASSOCIATE: Window(opens=605, closes=1520, samples=2)
    }
    assert book.windows(("", "eu-west-1")) == {}  # another region learned nothing


def test_failures_and_updates_never_seen_running_teach_nothing() -> None:
    book = UpdateDurations()
    _run(book, "failed", [0, 30, 60], "Failed")
    # A restarted process's first look already finds the update ended: no earlier look.
    book.observe(KEY, _status("old", "InProgress"), _status("old", "Successful"), T0)
    assert book.windows(KEY) == {}


def test_only_the_latest_spans_are_kept() -> None:
    book = UpdateDurations()
    for i in range(KEPT + 5):
        _run(book, f"u{i}", [0, 100 + i, 110 + i], "Successful")
    window = book.windows(KEY)[constants.UPDATE_ASSOCIATE]
    # The first five are gone: the earliest middle is 110, the latest end 134.
    assert (window.samples, window.opens, window.closes) == (KEPT, 110 - 24 / KEPT, 134)
