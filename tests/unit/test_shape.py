"""The shape a newcomer can read, kept: short functions, thin handlers, simple branches, small
packages. Each limit is one the project set itself (docs/architecture.md, "Layout"); a change
that breaks one should split the code, not raise the limit."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "eks_oidc_operator"
HANDLERS = PACKAGE / "handlers"

MAX_FUNCTION_LINES = 40
"""Any function or method, its docstring included."""
MAX_HANDLER_FUNCTION_LINES = 30
MAX_HANDLER_LINES = 700
"""The whole ``handlers`` package: kopf's entry points and nothing else."""
MAX_COMPLEXITY = 10
"""radon's cyclomatic complexity of any function, method or class (ruff's C901 gate is 10
too, but counts fewer branches: radon also counts boolean operators)."""
MAX_MODULES = 12
"""Python files in one package directory, ``__init__.py`` included."""


def _sources(root: Path = PACKAGE) -> list[Path]:
    return sorted(root.rglob("*.py"))


def _functions(path: Path, root: Path = PACKAGE) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            yield f"{path.relative_to(root)}:{node.name}", node.end_lineno - node.lineno + 1


def _longer_than(limit: int, root: Path) -> list[tuple[str, int]]:
    return [(name, n) for path in _sources(root) for name, n in _functions(path) if n > limit]


def test_no_function_is_longer_than_forty_lines() -> None:
    assert _longer_than(MAX_FUNCTION_LINES, PACKAGE) == []


def test_handlers_are_entry_points_only() -> None:
    assert _longer_than(MAX_HANDLER_FUNCTION_LINES, HANDLERS) == []
    lines = sum(len(path.read_text().splitlines()) for path in _sources(HANDLERS))
    assert lines <= MAX_HANDLER_LINES


def test_no_block_is_more_complex_than_ten() -> None:
    complex_blocks = [
        (str(path.relative_to(PACKAGE)), block.fullname, block.complexity)
        for path in _sources()
        for block in cc_visit(path.read_text())
        if block.complexity > MAX_COMPLEXITY
    ]
    assert complex_blocks == []


def test_no_package_has_more_than_twelve_modules() -> None:
    crowded = {
        str(directory.relative_to(PACKAGE.parent)): count
        for directory in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir())]
        if (count := len(list(directory.glob("*.py")))) > MAX_MODULES
    }
    assert crowded == {}


def test_the_limits_can_fail(tmp_path: Path) -> None:
    """The measures see what they are meant to: a long, branchy function is caught."""
    branches = "\n".join(f"    if x == {i} and y:\n        return {i}" for i in range(21))
    source = f"def f(x, y):\n{branches}\n    return -1\n"
    assert max(block.complexity for block in cc_visit(source)) > MAX_COMPLEXITY
    (tmp_path / "long.py").write_text(source)
    assert [n for _, n in _functions(tmp_path / "long.py", tmp_path)] == [44]
