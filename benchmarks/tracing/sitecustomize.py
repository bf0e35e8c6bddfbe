"""Loaded by Python at start-up when this folder is on PYTHONPATH (memory_sites.py puts it
there for the operator process only; ``fleet.py --operator-env PYTHONPATH=...`` does too).
Every dump is appended to ``EKS_OIDC_MEMORY_DUMP``.

- SIGUSR1, with ``PYTHONTRACEMALLOC`` set (tracemalloc traces from the first import): the top
  allocation sites by package and by line, and the most numerous object types (the objgraph
  way of counting).
- SIGUSR2, untraced: where the resident memory is (glibc's heap and pymalloc's arenas, in use
  and free), the per-object tables and what only each reaches, the tracked objects by type,
  and the coroutines alive by function.
- ``EKS_OIDC_TRIM_SECONDS``: an experiment, glibc's ``malloc_trim(0)`` that often.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import os
import signal
import sys
import threading
import time
import tracemalloc
import types
from pathlib import Path
from types import FrameType
from typing import IO


def _package(filename: str) -> str:
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if "eks_oidc_operator" in parts:
        return "eks_oidc_operator/" + parts[parts.index("eks_oidc_operator") + 1]
    return "python" if "lib" in parts else filename


def _holders(thing: object) -> str:
    """What refers to ``thing``, by type (and, for an object's attribute dict, its class)."""
    names = []
    for referrer in gc.get_referrers(thing):
        if isinstance(referrer, dict):
            owners = [
                type(o).__name__
                for o in gc.get_referrers(referrer)
                if hasattr(o, "__dict__") and getattr(o, "__dict__", None) is referrer
            ]
            names.append(f"dict of {owners[0]}" if owners else "dict")
        elif type(referrer).__name__ != "frame":
            names.append(type(referrer).__name__)
    return ", ".join(sorted(names))


def _bodies(out: IO[str]) -> None:
    """Decoded object bodies alive: how many per object, and what holds them."""
    per_uid: collections.Counter[str] = collections.Counter()
    holders: collections.Counter[str] = collections.Counter()
    for o in gc.get_objects():
        if isinstance(o, dict) and o.get("kind") == "OidcIdentityProvider" and "spec" in o:
            per_uid[str((o.get("metadata") or {}).get("uid"))] += 1
            if sum(holders.values()) < 50:  # a sample: each lookup scans every object
                holders[_holders(o)] += 1
    out.write(f"-- bodies: {sum(per_uid.values())} for {len(per_uid)} objects; held by\n")
    for name, count in holders.most_common(10):
        out.write(f"{count:9d}  {name}\n")


def _owners(snapshot: tracemalloc.Snapshot, out: IO[str]) -> None:
    """With more than one frame traced (``PYTHONTRACEMALLOC=N``): each allocation counted at
    the innermost frame of the operator or kopf that led to it, so a dict made by the json
    module for a kopf watch is charged to kopf's line."""
    owners: collections.Counter[str] = collections.Counter()
    for trace in snapshot.traces:
        where = "elsewhere"
        for frame in reversed(trace.traceback):  # most recent first
            if "eks_oidc_operator" in frame.filename or "/kopf/" in frame.filename:
                where = f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
                break
        owners[where] += trace.size
    out.write("-- by the operator's or kopf's innermost line (MiB)\n")
    for name, size in owners.most_common(40):
        out.write(f"{size / 2**20:8.2f}  {name}\n")


def _dump(signum: int, frame: FrameType | None) -> None:
    if not tracemalloc.is_tracing():
        return
    snapshot = tracemalloc.take_snapshot()
    by_package: collections.Counter[str] = collections.Counter()
    for stat in snapshot.statistics("filename"):
        by_package[_package(stat.traceback[0].filename)] += stat.size
    types = collections.Counter(type(o).__name__ for o in gc.get_objects())
    current, peak = tracemalloc.get_traced_memory()
    with Path(os.environ["EKS_OIDC_MEMORY_DUMP"]).open("a") as out:
        out.write(f"== traced now {current / 2**20:.1f} MiB, traced peak {peak / 2**20:.1f} MiB\n")
        out.write("-- by package (MiB)\n")
        for name, size in by_package.most_common(15):
            out.write(f"{size / 2**20:8.2f}  {name}\n")
        out.write("-- by line (MiB)\n")
        for stat in snapshot.statistics("lineno")[:40]:
            where = stat.traceback[0]
            out.write(
                f"{stat.size / 2**20:8.2f}  {stat.count:8d}  {where.filename}:{where.lineno}\n"
            )
        _owners(snapshot, out)
        _bodies(out)
        out.write("-- objects by type (count)\n")
        for name, count in types.most_common(15):
            out.write(f"{count:9d}  {name}\n")


_SHARED = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


def _reached(table: object, counts: collections.Counter[type], seen: set[int]) -> int:
    """Bytes reached from ``table`` and not already ``seen``, not walking into anything of a
    type with fewer than 100 instances (the operator's singletons: settings, services, the
    loop), so one table is not charged the whole heap."""
    total, stack = 0, [table]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, _SHARED):
            continue
        if gc.is_tracked(item) and counts[type(item)] < 100 and item is not table:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        stack.extend(gc.get_referents(item))
    return total


def _containers(out: IO[str], least: int = 1000) -> None:
    """The containers with at least ``least`` items (per-object tables: timers, states, kopf's
    memories and indexes), each with the size of what only it reaches; then every tracked
    object by type, and the coroutines alive by function (what a burst is waiting on)."""
    everything = gc.get_objects()
    counts = collections.Counter(type(o) for o in everything)
    tables = [
        o
        for o in everything
        if isinstance(o, (dict, list, set, collections.deque)) and len(o) >= least
    ]
    seen: set[int] = {id(everything), id(tables)}
    sizes = [(_reached(table, counts, seen), table) for table in tables]
    out.write(f"-- tables of {least} items or more (MiB reached only through them)\n")
    for total, table in sorted(sizes, key=lambda pair: -pair[0])[:15]:
        sample = next(iter(table.items() if isinstance(table, dict) else table), None)
        out.write(
            f"{total / 2**20:8.2f}  {type(table).__name__} of {len(table)}, held by "
            f"{_holders(table)[:80]}; e.g. {repr(sample)[:120]}\n"
        )
    _census(everything, out)
    del everything, tables


def _census(everything: list[object], out: IO[str]) -> None:
    by_type: collections.Counter[str] = collections.Counter()
    counted: collections.Counter[str] = collections.Counter()
    waiting: collections.Counter[str] = collections.Counter()
    for o in everything:
        by_type[type(o).__name__] += sys.getsizeof(o)
        counted[type(o).__name__] += 1
        if isinstance(o, types.CoroutineType):
            waiting[o.cr_code.co_qualname] += 1
    out.write("-- objects the collector tracks, by type: MiB (their own size only), count\n")
    for name, size in by_type.most_common(25):
        out.write(f"{size / 2**20:8.2f}  {counted[name]:9d}  {name}\n")
    out.write("-- coroutines alive, by function\n")
    for name, count in waiting.most_common(25):
        out.write(f"{count:9d}  {name}\n")


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _heaps(signum: int, frame: FrameType | None) -> None:
    """Where the resident memory is, without tracing: glibc's heap (in use, free) and
    pymalloc's arenas (from ``sys._debugmallocstats``, written to fd 2)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    path = Path(os.environ["EKS_OIDC_MEMORY_DUMP"])
    with path.open("a") as out:
        rss = Path("/proc/self/statm").read_text().split()[1]
        out.write(
            f"== heaps: RSS {int(rss) * os.sysconf('SC_PAGE_SIZE') / 2**20:.1f} MiB; glibc "
            f"arena {info.arena / 2**20:.1f} MiB (in use {info.uordblks / 2**20:.1f}, free "
            f"{info.fordblks / 2**20:.1f}), mmapped {info.hblkhd / 2**20:.1f} MiB in "
            f"{info.hblks}; threads {threading.active_count()}\n"
        )
        _containers(out)
        out.flush()
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)


if os.environ.get("EKS_OIDC_MEMORY_DUMP"):
    signal.signal(signal.SIGUSR1, _dump)
    signal.signal(signal.SIGUSR2, _heaps)


def _trim_every(seconds: float) -> None:
    """An experiment: glibc's ``malloc_trim(0)`` every ``seconds``, from a thread of its own."""
    libc = ctypes.CDLL("libc.so.6")

    def run() -> None:
        while True:
            time.sleep(seconds)
            libc.malloc_trim(0)

    threading.Thread(target=run, daemon=True, name="malloc-trim").start()


if os.environ.get("EKS_OIDC_TRIM_SECONDS"):
    _trim_every(float(os.environ["EKS_OIDC_TRIM_SECONDS"]))
