"""Write the error table of docs/errors.md from the operator's error policy.

``operator/eks_oidc_operator/reconcile/error_policy.py`` is the one place the mapping from EKS
and SDK error codes to condition reasons and retries is implemented; its ``markdown_table()``
renders it. This rewrites the table between the markers of ``docs/errors.md`` and leaves the
prose around it as written. ``make docs`` runs it; a test runs ``--check`` and fails when the
committed doc is not what this writes.

Usage: ``python hack/errors_doc.py [--check]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from eks_oidc_operator.reconcile.error_policy import markdown_table
from generated_doc import write_or_check

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
BEGIN, END = "<!-- BEGIN GENERATED TABLE -->", "<!-- END GENERATED TABLE -->"


def rendered(doc: str) -> str:
    """``doc`` with the table between the markers replaced by the implemented one."""
    if BEGIN not in doc or END not in doc:
        msg = f"{DOC.name} lost its {BEGIN} / {END} markers"
        raise ValueError(msg)
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{markdown_table()}{END}{tail}"


def main(argv: list[str]) -> int:
    return write_or_check(DOC, rendered(DOC.read_text()), argv, "make docs")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
