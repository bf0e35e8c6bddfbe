"""Watch events lose managedFields and kubectl's last-applied annotation before kopf keeps them."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kopf._cogs.clients import watching

from eks_oidc_operator.kopf_private import slim_bodies

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
KOPF_DIFFBASE = "eksoidc.io/last-handled-configuration"


def _body() -> dict[str, Any]:
    return {
        "apiVersion": "eksoidc.io/v1alpha1",
        "kind": "OidcIdentityProvider",
        "metadata": {
            "name": "a",
            "namespace": "default",
            "uid": "u-1",
            "resourceVersion": "7",
            "finalizers": ["eksoidc.io/finalizer"],
            "annotations": {
                LAST_APPLIED: '{"spec": {}}',
                KOPF_DIFFBASE: '{"spec": {"clusterName": "c"}}',
                "eksoidc.io/paused": "true",
            },
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"clusterName": "c"},
        "status": {"phase": "Ready"},
    }


def test_slim_drops_only_what_nothing_reads() -> None:
    body = _body()
    expected = copy.deepcopy(body)
    del expected["metadata"]["managedFields"]
    del expected["metadata"]["annotations"][LAST_APPLIED]

    slim_bodies.slim(body)

    assert body == expected  # spec, status, finalizers, kopf's and our annotations all kept


@pytest.mark.parametrize(
    "body",
    [{}, {"metadata": None}, {"metadata": {"annotations": None}}, {"metadata": {"name": "a"}}],
)
def test_slim_leaves_bodies_without_those_parts_alone(body: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    slim_bodies.slim(body)
    assert body == before


def _decoded(text: str) -> Any:
    return json.loads(text)  # each call makes its own strings, as each watch event does


def test_shared_is_equal_and_two_bodies_share_their_keys_and_short_values() -> None:
    text = json.dumps(_body() | {"note": "x" * 100})
    one, two = slim_bodies.shared(_decoded(text)), slim_bodies.shared(_decoded(text))
    assert one == two == json.loads(text)
    key_one = next(k for k in one["metadata"] if k == "resourceVersion")
    key_two = next(k for k in two["metadata"] if k == "resourceVersion")
    assert key_one is key_two
    assert one["kind"] is two["kind"]
    assert one["metadata"]["finalizers"][0] is two["metadata"]["finalizers"][0]
    # Long values are left as decoded: nearly always unique, interning them saves nothing.
    assert one["note"] is not two["note"]
    # Without it, the same text decoded twice shares nothing (what the function is for).
    assert _decoded(text)["kind"] is not _decoded(text)["kind"]


def test_shared_keeps_every_json_type() -> None:
    value = {"a": [1, 2.5, None, True, {"b": "c"}], "d": False}
    assert slim_bodies.shared(value) == value


def test_the_wrapped_stream_slims_objects_and_passes_bookmarks_through() -> None:
    seen_kwargs: dict[str, Any] = {}

    async def stream(**kwargs: Any) -> AsyncIterator[Any]:
        seen_kwargs.update(kwargs)
        yield {"type": None, "object": _body()}  # an item of the initial listing
        yield watching.Bookmark.LISTED
        yield {"type": "MODIFIED", "object": _body()}

    async def collect() -> list[Any]:
        return [e async for e in slim_bodies.slimming(stream)(resource="r", namespace=None)]

    events = asyncio.run(collect())

    assert seen_kwargs == {"resource": "r", "namespace": None}
    assert events[1] is watching.Bookmark.LISTED
    for event in (events[0], events[2]):
        metadata = event["object"]["metadata"]
        assert "managedFields" not in metadata
        assert LAST_APPLIED not in metadata["annotations"]
        assert metadata["annotations"][KOPF_DIFFBASE]
    assert events[0]["object"]["kind"] is events[2]["object"]["kind"]


def test_install_wraps_kopfs_watch_once(monkeypatch: pytest.MonkeyPatch) -> None:
    original = watching.infinite_watch
    monkeypatch.setattr(watching, "infinite_watch", original)  # restored after the test

    assert slim_bodies.install()
    wrapped = watching.infinite_watch
    assert slim_bodies.installed()
    assert wrapped is not original

    assert slim_bodies.install()
    assert watching.infinite_watch is wrapped  # not wrapped twice


def test_install_gives_up_quietly_if_kopf_moved_its_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(watching, "infinite_watch")
    assert not slim_bodies.install()
