"""The state file: one JSON document, written atomically, read once at start.

Atomic means a crash mid-write never leaves a torn file: we write a temporary file in the
same directory, fsync it, then ``os.replace`` it over the old one (atomic on POSIX).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel

from eks_simulator.clock import ClockSnapshot
from eks_simulator.config import SimConfig
from eks_simulator.state import StateSnapshot

FORMAT_VERSION = 1


class SavedState(BaseModel):
    """Everything that survives a restart."""

    format_version: int = FORMAT_VERSION
    clock: ClockSnapshot
    config: SimConfig
    state: StateSnapshot


def save(path: Path, saved: SavedState) -> None:
    """Write ``saved`` to ``path`` atomically."""
    data = saved.model_dump_json(by_alias=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> SavedState | None:
    """The saved state, or ``None`` if the file does not exist yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    saved = SavedState.model_validate_json(raw)
    if saved.format_version != FORMAT_VERSION:
        msg = f"{path}: unsupported state-file format {saved.format_version}"
        raise ValueError(msg)
    return saved
