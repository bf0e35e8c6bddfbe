"""Write the chart README's values table from the comments in values.yaml (helm-docs style).

Each value is documented by the comment block right above its key that starts with ``# --``;
the table lists every key with its type, its default and that text. ``make chart-readme``
(part of ``make docs``) rewrites the table between the markers of
``charts/eks-oidc-operator/README.md``; a test fails when the committed table is stale.

Usage: ``python hack/chart_readme.py [--check]``
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from generated_doc import write_or_check

CHART = Path(__file__).resolve().parent.parent / "charts" / "eks-oidc-operator"
BEGIN, END = "<!-- BEGIN VALUES TABLE -->", "<!-- END VALUES TABLE -->"
_KEY = re.compile(r"^(\s*)([A-Za-z][\w.-]*):(\s|$)")


def documented_keys(text: str) -> list[tuple[str, str]]:
    """``(dotted key, description)`` of every key of ``text`` (a values.yaml), in order."""
    lines = text.splitlines()
    stack: list[tuple[int, str]] = []
    found: list[tuple[str, str]] = []
    for index, line in enumerate(lines):
        match = _KEY.match(line)
        if match is None:
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([*(k for _, k in stack), key])
        stack.append((indent, key))
        found.append((path, _comment_above(lines, index)))
    return found


def _comment_above(lines: list[str], index: int) -> str:
    block: list[str] = []
    above = index - 1
    while above >= 0 and lines[above].lstrip().startswith("#"):
        block.insert(0, lines[above].strip().lstrip("#").strip())
        above -= 1
    start = next((i for i, text in enumerate(block) if text.startswith("--")), None)
    if start is None:
        return ""
    block[start] = block[start][2:].strip()
    return " ".join(part for part in block[start:] if part)


def _value_at(values: Any, path: str) -> Any:
    node = values
    for part in path.split("."):
        node = node[part]
    return node


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}[
        type(value)
    ]


def table(text: str) -> str:
    """The Markdown values table of ``text`` (a values.yaml)."""
    values = yaml.safe_load(text)
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for path, description in documented_keys(text):
        value = _value_at(values, path)
        if (
            isinstance(value, dict)
            and value
            and any(key.startswith(f"{path}.") for key, _ in documented_keys(text))
        ):
            kind, default = "object", "see below"
        else:
            kind, default = _type_of(value), f"`{json.dumps(value)}`"
        cell, shown = description.replace("|", r"\|"), default.replace("|", r"\|")
        rows.append(f"| `{path}` | {kind} | {shown} | {cell} |")
    return "\n".join(rows)


def rendered(readme: str, values_text: str) -> str:
    """``readme`` with the table between the markers replaced."""
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table(values_text)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    readme = CHART / "README.md"
    fresh = rendered(readme.read_text(), (CHART / "values.yaml").read_text())
    return write_or_check(readme, fresh, argv, "make chart-readme")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
