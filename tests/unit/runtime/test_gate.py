"""The cluster gate's queue: fair order, hand-over with a wake-up, and nobody left waiting."""

from __future__ import annotations

from eks_oidc_operator.runtime.pacing.gate import ClusterGate

KEY = ("eu-west-1", "prod")
OTHER = ("eu-west-1", "staging")


def test_waiters_get_the_gate_in_creation_order_whatever_order_they_queued_in() -> None:
    gate, woken = ClusterGate(), list[str]()
    assert gate.acquire(KEY, "holder") is None
    gate.enqueue(KEY, "c", ("2026-12-02T10:00:03Z", "ns/c"), lambda: woken.append("c"))
    gate.enqueue(KEY, "a", ("2026-12-02T10:00:01Z", "ns/a"), lambda: woken.append("a"))
    gate.enqueue(KEY, "b", ("2026-12-02T10:00:02Z", "ns/b"), lambda: woken.append("b"))
    gate.release(KEY, "holder")
    assert woken == ["a"]
    assert gate.holder(KEY, "x") == "a"
    gate.release(KEY, "a")
    gate.release(KEY, "b")
    assert woken == ["a", "b", "c"]
    assert gate.holder(KEY, "x") == "c"


def test_queueing_again_keeps_the_first_place() -> None:
    gate, woken = ClusterGate(), list[str]()
    gate.acquire(KEY, "holder")
    gate.enqueue(KEY, "late", ("2026-12-02T10:00:09Z", "ns/late"), lambda: woken.append("late"))
    gate.enqueue(KEY, "early", ("2026-12-02T10:00:05Z", "ns/early"), lambda: None)
    # "late" passes again while waiting (a safety-net pass): its place does not change, but the
    # newest wake-up is the one called.
    gate.enqueue(KEY, "late", ("2026-12-02T10:00:01Z", "ns/late"), lambda: woken.append("new"))
    gate.release(KEY, "holder")
    assert gate.holder(KEY, "x") == "early"
    gate.release(KEY, "early")
    assert woken == ["new"]


def test_a_waiter_that_finds_the_gate_free_gets_it_and_is_woken_at_once() -> None:
    gate, woken = ClusterGate(), list[str]()
    gate.enqueue(KEY, "a", ("t", "ns/a"), lambda: woken.append("a"))
    assert woken == ["a"]
    assert gate.holder(KEY, "x") == "a"


def test_a_forgotten_object_leaves_every_queue_and_frees_what_it_held() -> None:
    gate, woken = ClusterGate(), list[str]()
    gate.acquire(KEY, "gone")
    gate.acquire(OTHER, "busy")
    gate.enqueue(OTHER, "gone", ("t0", "ns/gone"), lambda: woken.append("gone"))
    gate.enqueue(KEY, "next", ("t1", "ns/next"), lambda: woken.append("next"))
    gate.forget("gone")
    assert woken == ["next"]
    gate.release(OTHER, "busy")
    assert woken == ["next"]  # "gone" was no longer waiting
    assert gate.holder(OTHER, "x") is None


def test_leaving_the_queue_means_no_wake_up() -> None:
    gate, woken = ClusterGate(), list[str]()
    gate.acquire(KEY, "holder")
    gate.enqueue(KEY, "a", ("t", "ns/a"), lambda: woken.append("a"))
    gate.leave("a")
    gate.release(KEY, "holder")
    assert woken == []
    assert gate.holder(KEY, "x") is None


def test_queueing_for_another_cluster_moves_the_object() -> None:
    gate, woken = ClusterGate(), list[str]()
    gate.acquire(KEY, "h1")
    gate.acquire(OTHER, "h2")
    gate.enqueue(KEY, "a", ("t", "ns/a"), lambda: woken.append("key"))
    gate.enqueue(OTHER, "a", ("t", "ns/a"), lambda: woken.append("other"))
    gate.release(KEY, "h1")
    gate.release(OTHER, "h2")
    assert woken == ["other"]


def test_only_the_holder_releases() -> None:
    gate = ClusterGate()
    gate.acquire(KEY, "a")
    gate.release(KEY, "b")
    assert gate.holder(KEY, "b") == "a"
