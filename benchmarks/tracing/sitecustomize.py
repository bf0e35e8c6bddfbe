"""Loaded by Python at start-up when this folder is on PYTHONPATH (memory_sites.py puts it
there for the operator process only): on SIGUSR1, write where the traced memory is.

With ``PYTHONTRACEMALLOC`` set, tracemalloc traces from the first import. The dump has the
top allocation sites by package and by line, and the most numerous object types (the
objgraph way of counting), appended to ``EKS_OIDC_MEMORY_DUMP``.
"""

from __future__ import annotations

import collections
import gc
import os
import signal
import tracemalloc
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
        _bodies(out)
        out.write("-- objects by type (count)\n")
        for name, count in types.most_common(15):
            out.write(f"{count:9d}  {name}\n")


if os.environ.get("EKS_OIDC_MEMORY_DUMP"):
    signal.signal(signal.SIGUSR1, _dump)
