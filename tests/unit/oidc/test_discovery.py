"""The issuer pre-flight against real HTTPS issuers on loopback (a CA of the test's own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator.oidc.discovery import IssuerChecker
from eks_oidc_operator.reconcile import issuer
from eks_oidc_operator.reconcile.issuer import IssuerCheck
from eks_oidc_testing.issuer import LocalIssuers, local_issuers


@pytest.fixture(scope="module")
def issuers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIssuers]:
    with local_issuers(tmp_path_factory.mktemp("issuers")) as served:
        yield served


def _checker(issuers: LocalIssuers, ttl: float = 60) -> IssuerChecker:
    return IssuerChecker(ca_file=str(issuers.ca_file), timeout=3, ttl=ttl)


async def _check_once(issuers: LocalIssuers, url: str) -> IssuerCheck:
    """One pre-flight of ``url`` by a checker of its own, closed after."""
    checker = _checker(issuers)
    try:
        return await checker.check(url)
    finally:
        await checker.close()


@pytest.mark.parametrize(
    ("variant", "problem", "network"),
    [
        ("good", None, False),
        ("mismatch", issuer.MISMATCH, False),
        ("nokeys", issuer.NO_KEYS, False),
        ("broken", issuer.UNREACHABLE, False),
    ],
)
async def test_each_answer_of_an_issuer_is_told_apart(
    issuers: LocalIssuers, variant: str, problem: str | None, network: bool
) -> None:
    found = await _check_once(issuers, issuers.url(variant))
    assert (found.problem, found.network) == (problem, network), found.detail


@pytest.mark.parametrize(
    ("variant", "said"),
    [
        ("huge", "more than the 262144 bytes"),
        ("endless", "more than the 262144 bytes"),
        ("gzip", "gzip-encoded answer"),
    ],
)
async def test_a_hostile_answer_is_refused_without_being_read_whole(
    issuers: LocalIssuers, variant: str, said: str
) -> None:
    # Each sends 8 MiB (the gzip one once inflated): the check reads at most 256 KiB of it and
    # inflates nothing, and says the issuer answered wrongly (not that the network failed).
    found = await _check_once(issuers, issuers.url(variant))
    assert (found.problem, found.network) == (issuer.UNREACHABLE, False), found.detail
    assert said in found.detail


async def test_a_certificate_that_does_not_verify_is_the_issuers_fault(
    issuers: LocalIssuers,
) -> None:
    found = await _check_once(issuers, issuers.untrusted)
    assert (found.problem, found.network) == (issuer.UNREACHABLE, False)
    assert found.detail.startswith("TLS")


async def test_no_route_is_the_networks_fault(issuers: LocalIssuers) -> None:
    found = await _check_once(issuers, issuers.dead)
    assert (found.problem, found.network) == (issuer.UNREACHABLE, True)


async def test_without_the_ca_bundle_the_local_issuer_does_not_verify(
    issuers: LocalIssuers,
) -> None:
    checker = IssuerChecker(ca_file=None, timeout=3, ttl=60)
    try:
        found = await checker.check(issuers.url("good"))
    finally:
        await checker.close()
    assert (found.problem, found.network) == (issuer.UNREACHABLE, False)


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
    assert (found.problem, found.network) == (issuer.UNREACHABLE, True)
    assert "cannot look up login.does-not-exist.invalid" in found.detail


async def test_an_issuer_without_an_address_gets_no_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A burst on unresolvable issuers waits for lookups, not with a built HTTP request each.
    import aiohttp

    requests = 0
    real_get = aiohttp.ClientSession.get

    def counting_get(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> Any:
        nonlocal requests
        requests += 1
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "get", counting_get)
    checker = IssuerChecker(ca_file=None, timeout=3, ttl=60)
    try:
        found = await checker.check("https://login.does-not-exist.invalid")
        reachable = await checker.check("https://127.0.0.1:9")  # an address, nothing listening
    finally:
        await checker.close()
    assert (found.network, reachable.network) == (True, True)
    assert "cannot look up" in found.detail
    assert "cannot look up" not in reachable.detail
    assert requests == 1


def test_the_ca_bundle_is_a_file(issuers: LocalIssuers) -> None:
    assert Path(issuers.ca_file).read_text().startswith("-----BEGIN CERTIFICATE-----")
