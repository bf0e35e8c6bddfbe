"""The issuer pre-flight against real HTTPS issuers on loopback (a CA of the test's own)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator.models import IssuerCheckMode
from eks_oidc_operator.oidc.discovery import IssuerChecker
from eks_oidc_operator.oidc.fence import IssuerFence, parse_cidrs, scheme_refusal
from eks_oidc_operator.oidc.slots import Turns
from eks_oidc_operator.reconcile.guards import issuer
from eks_oidc_operator.reconcile.guards.issuer import IssuerCheck
from eks_oidc_testing.issuer import LocalIssuers, local_issuers


@pytest.fixture(scope="module")
def issuers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIssuers]:
    with local_issuers(tmp_path_factory.mktemp("issuers")) as served:
        yield served


LOOPBACK_ONLY = IssuerFence(parse_cidrs("127.0.0.1/32"))
"""The test issuers' address, allowed as an admin would allow a private range."""


def _checker(
    issuers: LocalIssuers, ttl: float = 60, fence: IssuerFence = LOOPBACK_ONLY, **more: Any
) -> IssuerChecker:
    return IssuerChecker(ca_file=str(issuers.ca_file), timeout=2, ttl=ttl, fence=fence, **more)


async def _check_once(issuers: LocalIssuers, url: str, **more: Any) -> IssuerCheck:
    """One pre-flight of ``url`` by a checker of its own, closed after."""
    checker = _checker(issuers, **more)
    try:
        return await checker.check(url)
    finally:
        await checker.close()
        # A TLS connection cut short (a timeout, an unread redirect) finishes closing a few
        # loop turns later; aiohttp's advice for a clean shutdown is to give it that time
        # before the loop closes, as the test's loop does right after.
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("variant", "problem"),
    [
        ("good", None),
        ("mismatch", issuer.ANSWERED_WRONGLY),
        ("nokeys", issuer.ANSWERED_WRONGLY),
        ("broken", issuer.ANSWERED_WRONGLY),
        ("redirect", issuer.ANSWERED_WRONGLY),
        ("slow", issuer.ANSWERED_WRONGLY),
        ("plainjwks", issuer.NOT_ALLOWED),
        ("privatejwks", issuer.NOT_ALLOWED),
        ("metadata", issuer.NOT_ALLOWED),
        ("nested", issuer.ANSWERED_WRONGLY),  # the parser's RecursionError, not a crash
        ("badjwks", issuer.NOT_ALLOWED),  # a jwks_uri no library parses
    ],
)
async def test_each_answer_of_an_issuer_is_told_apart(
    issuers: LocalIssuers, variant: str, problem: str | None
) -> None:
    found = await _check_once(issuers, issuers.url(variant))
    assert found.problem == problem, found.detail


@pytest.mark.parametrize("variant", ["mismatch", "broken", "redirect", "metadata", "good"])
async def test_the_tenant_is_told_nothing_that_was_fetched(
    issuers: LocalIssuers, variant: str
) -> None:
    # Status and events carry the message: no HTTP status, no TLS error, no value the issuer
    # (or whatever the URL reached) answered, not even a verified jwks_uri. The log gets them.
    found = await _check_once(issuers, issuers.url(variant))
    for fetched in ("/other", "HTTP 500", "HTTP 302", "169.254", "/keys", "TLS:"):
        assert fetched not in found.message, found.message
    assert found.message.startswith(f"issuer {issuers.url(variant)}: ")
    assert found.detail != found.message


@pytest.mark.parametrize(
    ("variant", "said"),
    [
        ("huge", "more than the 262144 bytes"),
        ("endless", "more than the 262144 bytes"),
        ("gzip", "gzip-encoded"),
    ],
)
async def test_a_hostile_answer_is_refused_without_being_read_whole(
    issuers: LocalIssuers, variant: str, said: str
) -> None:
    # Each sends 8 MiB (the gzip one once inflated): the check reads at most 256 KiB of it and
    # inflates nothing, and says the issuer answered wrongly (not that the network failed).
    found = await _check_once(issuers, issuers.url(variant))
    assert found.problem == issuer.ANSWERED_WRONGLY, found.detail
    assert said in found.detail


async def test_a_certificate_that_does_not_verify_is_the_issuers_fault(
    issuers: LocalIssuers,
) -> None:
    found = await _check_once(issuers, issuers.untrusted)
    assert found.problem == issuer.ANSWERED_WRONGLY
    assert "TLS" in found.detail


async def test_no_route_is_the_networks_fault(issuers: LocalIssuers) -> None:
    found = await _check_once(issuers, issuers.dead)
    assert found.problem == issuer.UNREACHABLE
    assert issuer.severity(found, IssuerCheckMode.ENFORCE) is issuer.Severity.WARN


async def test_without_the_ca_bundle_the_local_issuer_does_not_verify(
    issuers: LocalIssuers,
) -> None:
    checker = IssuerChecker(ca_file=None, timeout=3, ttl=60, fence=LOOPBACK_ONLY)
    try:
        found = await checker.check(issuers.url("good"))
    finally:
        await checker.close()
    assert found.problem == issuer.ANSWERED_WRONGLY


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "169.254.169.254",
        "\uff11\uff12\uff17.0.0.1",  # fullwidth digits: yarl (so aiohttp) reads 127.0.0.1
        "127\u30020\u30020\u30021",  # ideographic full stops
        "2130706433",  # 127.0.0.1 as one number
        "0x7f.1",
        "[::ffff:127.0.0.1]",
        "[64:ff9b::7f00:1]",  # NAT64
    ],
)
async def test_loopback_and_link_local_are_refused_unless_allowed(
    issuers: LocalIssuers, host: str
) -> None:
    port = issuers.base.rsplit(":", 1)[1]
    found = await _check_once(issuers, f"https://{host}:{port}/good", fence=IssuerFence())
    assert found.problem == issuer.NOT_ALLOWED, found.detail
    assert issuer.severity(found, IssuerCheckMode.ENFORCE) is issuer.Severity.FATAL


async def test_a_name_that_resolves_to_loopback_is_refused(issuers: LocalIssuers) -> None:
    port = int(issuers.base.rsplit(":", 1)[1])

    def lookup(host: str, *_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    found = await _check_once(
        issuers, f"https://login.example.com:{port}/good", fence=IssuerFence(), lookup=lookup
    )
    assert found.problem == issuer.NOT_ALLOWED, found.detail
    assert "resolves to 127.0.0.1" in found.detail


async def test_only_an_address_the_fence_vetted_is_connected_to(issuers: LocalIssuers) -> None:
    # The name answers a refused address first and the issuer's second. A listener on the
    # refused one counts connections: the check must succeed without ever reaching it.
    port = int(issuers.base.rsplit(":", 1)[1])
    trap = socket.socket()
    trap.bind(("127.0.0.2", port))
    trap.listen()
    trap.setblocking(False)

    def lookup(host: str, *_: Any) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    try:
        found = await _check_once(issuers, f"https://127.0.0.1:{port}/good", lookup=lookup)
        renamed = await _check_once(
            issuers, f"https://login.example.com:{port}/good", lookup=lookup
        )
        with pytest.raises(BlockingIOError):
            trap.accept()
    finally:
        trap.close()
    assert found.problem is None, found.detail
    # The name's check reaches the issuer (whose certificate names 127.0.0.1 only): TLS says
    # so, which proves the connection went to the vetted address, not to the trap.
    assert renamed.problem == issuer.ANSWERED_WRONGLY
    assert "TLS" in renamed.detail


def test_allowed_ranges_are_cidrs_named_when_wrong() -> None:
    assert parse_cidrs(" 10.0.0.0/8, fd00::/8,127.0.0.1 ") == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
        ipaddress.ip_network("127.0.0.1/32"),
    )
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not a CIDR"):
        parse_cidrs("10.0.0.0/33")
    fence = IssuerFence(parse_cidrs("10.1.0.0/16"))
    assert [fence.permits(a) for a in ("10.1.2.3", "10.2.0.1", "::ffff:10.1.0.1", "8.8.8.8")] == [
        True,
        False,
        True,
        True,
    ]
    assert not IssuerFence().permits("::ffff:127.0.0.1")
    # A cluster's own ranges, denied by name, stay refused inside an allowed range, and a
    # public range used for pods or services is refused too.
    denying = IssuerFence(parse_cidrs("10.0.0.0/8"), parse_cidrs("10.96.0.0/12, 34.0.0.0/16"))
    assert [denying.permits(a) for a in ("10.1.0.1", "10.96.0.10", "34.0.1.1", "35.0.0.1")] == [
        True,
        False,
        False,
        True,
    ]
    assert scheme_refusal("http://login.example.com") is not None
    assert scheme_refusal("https://login.example.com") is None


async def test_a_check_that_gets_no_turn_is_not_a_finding_and_is_not_kept(
    issuers: LocalIssuers,
) -> None:
    # One turn per host: a slow issuer holds it, and a second URL on the same host waits for
    # its turn no longer than its bound. That is "not checked yet", not a verdict, and the
    # next check of that URL runs afresh.
    import asyncio

    checker = _checker(issuers, turns=Turns(total=4, per_host=1, wait=0.5))
    try:
        slow = asyncio.create_task(checker.check(issuers.url("slow")))
        await asyncio.sleep(0.2)
        waited = await checker.check(issuers.url("broken"))
        assert waited.problem == issuer.NOT_CHECKED, waited.detail
        assert issuer.severity(waited, IssuerCheckMode.ENFORCE) is issuer.Severity.WAIT
        assert issuer.severity(waited, IssuerCheckMode.WARN) is issuer.Severity.FINE
        assert (await slow).problem == issuer.ANSWERED_WRONGLY
        again = await checker.check(issuers.url("broken"))
    finally:
        await checker.close()
    assert again.problem == issuer.ANSWERED_WRONGLY, again.detail


async def test_the_timeout_counts_the_issuers_own_time_only(issuers: LocalIssuers) -> None:
    # One turn in all, a 2 s timeout. The first issuer answers in 1.5 s; the second waits
    # about 1.3 s for the turn, then answers in 1 s: 2.3 s after it was asked, but only 1 s of
    # its own, so it is verified (a timeout that counted the wait called it unreachable).
    import asyncio

    checker = _checker(issuers, turns=Turns(total=1, per_host=1, wait=2))
    try:
        first = asyncio.create_task(checker.check(issuers.url("late15")))
        await asyncio.sleep(0.2)
        second = await checker.check(issuers.url("late10"))
        assert (await first).problem is None
    finally:
        await checker.close()
    assert second.problem is None, second.detail


async def test_many_objects_on_one_issuer_fetch_it_once(issuers: LocalIssuers) -> None:
    import asyncio

    checker = _checker(issuers)
    fetched = 0
    original = checker._client

    def counting() -> object:
        nonlocal fetched
        fetched += 1
        return original()

    checker._client = counting  # type: ignore[method-assign,assignment]
    try:
        results = await asyncio.gather(*(checker.check(issuers.url("good")) for _ in range(100)))
        again = await checker.check(issuers.url("good"))
    finally:
        await checker.close()
    assert fetched == 1
    assert all(r.problem is None for r in [*results, again])


async def test_expired_results_are_forgotten(issuers: LocalIssuers) -> None:
    import asyncio

    checker = _checker(issuers, ttl=0.2)
    try:
        await checker.check(issuers.url("good"))
        await checker.check(issuers.url("nokeys"))
        assert checker.cached() == 2
        await asyncio.sleep(0.3)  # both expired
        await checker.check(issuers.url("mismatch"))
    finally:
        await checker.close()
    assert checker.cached() == 1


async def test_a_finished_fetch_is_kept_as_its_result_not_its_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A finished task keeps its coroutine's frame and more: a fleet of a thousand issuers
    # would keep a thousand of them for the cache's lifetime.
    import asyncio

    from eks_oidc_operator.oidc import discovery

    fetched = 0

    async def fetch(_client: object, url: str, *_: object) -> issuer.IssuerCheck:
        nonlocal fetched
        fetched += 1
        await asyncio.sleep(0.01)
        return issuer.IssuerCheck(url=url, problem=None)

    monkeypatch.setattr(discovery, "check_issuer", fetch)
    checker = IssuerChecker(ca_file=None, timeout=3, ttl=60)
    try:
        first = await checker.check("https://x.example.com")
        kept = [held for _, held in checker._results.values()]
        again = await checker.check("https://x.example.com")
    finally:
        await checker.close()
    assert kept == [first]
    assert again is first
    assert fetched == 1


async def test_the_cached_fetch_does_not_keep_the_callers_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The caller is a kopf handler: its context holds the object's cause (body, patch,
    # loggers), and a task keeps the context it runs in for as long as the cache keeps the
    # task. The fetch must run in a context of its own.
    import contextvars

    from eks_oidc_operator.oidc import discovery

    var: contextvars.ContextVar[str] = contextvars.ContextVar("cause")
    seen: list[str | None] = []

    async def fetch(*_: object) -> issuer.IssuerCheck:
        seen.append(var.get(None))
        return issuer.IssuerCheck(url="https://x.example.com", problem=None)

    monkeypatch.setattr(discovery, "check_issuer", fetch)
    checker = IssuerChecker(ca_file=None, timeout=3, ttl=60)
    var.set("the handler's cause")
    try:
        await checker.check("https://x.example.com")
    finally:
        await checker.close()
    assert seen == [None]
    assert var.get() == "the handler's cause"


async def test_lookups_do_not_wait_in_the_eks_calls_pool(issuers: LocalIssuers) -> None:
    # The loop's default executor is the pool the blocking EKS calls run in; in a burst it is
    # full, and a lookup queued there waited seconds.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    submitted = 0

    class Counting(ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            nonlocal submitted
            submitted += 1
            return super().submit(*args, **kwargs)

    loop = asyncio.get_running_loop()
    loop.set_default_executor(Counting(max_workers=1))
    found = await _check_once(issuers, "https://login.does-not-exist.invalid")
    assert submitted == 0
    assert found.problem == issuer.UNREACHABLE
    assert "cannot look up login.does-not-exist.invalid" in found.detail


def test_the_ca_bundle_is_a_file(issuers: LocalIssuers) -> None:
    assert Path(issuers.ca_file).read_text().startswith("-----BEGIN CERTIFICATE-----")
