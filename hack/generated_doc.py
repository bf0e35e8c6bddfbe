"""What the scripts that generate a doc share: write the fresh text, or with ``--check`` say
the committed file is stale (the generated-docs test and ``make lint`` run ``--check``)."""

from __future__ import annotations

from pathlib import Path


def write_or_check(path: Path, fresh: str, argv: list[str], remedy: str) -> int:
    """Write ``fresh`` to ``path``; with ``--check`` in ``argv`` only compare, and on a
    difference print that ``path`` is stale and ``remedy``. The exit status."""
    if "--check" not in argv:
        path.write_text(fresh)
        return 0
    if fresh == path.read_text():
        return 0
    print(f"{path.name} is stale: run `{remedy}`")
    return 1
