"""The repo explains itself: every section a file cites exists, and every doc link resolves.

Code and docs cite ``docs/eks-behaviour.md §3.5`` and the like; a renumbered doc would leave
them pointing at nothing, so the citations are checked against the doc's own headings.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
from pathlib import Path

from eks_oidc_testing.paths import REPO

CITATION = re.compile(r"docs/([\w-]+\.md) (§[0-9]+(?:\.[0-9]+)?(?:(?:,| and|/) ?§?[0-9.]+)*)")
SECTION_REF = re.compile(r"§?([0-9]+(?:\.[0-9]+)?)")
LINK = re.compile(r"\]\(([^)#:]+\.(?:md|lua|yaml|json))(?:#[^)]*)?\)")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "operator", "tests", "docs", "hack", "benchmarks", "README.md"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO / name for name in names if name.endswith((".py", ".md", ".sh", ".yaml"))]


def _sections(doc: Path) -> set[str]:
    headings = re.findall(r"^#{2,3} ([0-9]+(?:\.[0-9]+)?)\.? ", doc.read_text(), re.MULTILINE)
    return set(headings)


def test_every_cited_section_exists() -> None:
    missing, found = [], 0
    for path in _tracked_text_files():
        for doc_name, refs in CITATION.findall(path.read_text()):
            found += 1
            doc = REPO / "docs" / doc_name
            assert doc.exists(), f"{path.relative_to(REPO)} cites docs/{doc_name}, which is missing"
            known = _sections(doc)
            missing += [
                f"{path.relative_to(REPO)}: docs/{doc_name} §{number}"
                for number in SECTION_REF.findall(refs)
                if number.rstrip(".") not in known
            ]
    assert found, "no citation found: the pattern no longer matches how files cite the docs"
    assert not missing, f"citations of sections that do not exist: {missing}"


def test_the_eks_behaviour_doc_cites_only_its_own_sections() -> None:
    doc = REPO / "docs" / "eks-behaviour.md"
    text, known = doc.read_text(), _sections(doc)
    cited = set(re.findall(r"§([0-9]+(?:\.[0-9]+)?)", text))
    assert cited, "the doc cross-references its sections"
    assert cited <= known, f"unknown sections: {sorted(cited - known)}"


def test_every_relative_link_in_the_docs_resolves() -> None:
    broken = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in LINK.findall(doc.read_text()):
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(REPO)} -> {target}")
    assert not broken, f"broken links: {broken}"


DOTTED = re.compile(r"\b((?:eks_oidc_operator|eks_simulator|eks_oidc_testing)(?:\.[A-Za-z_]\w*)+)")
REPO_PATH = re.compile(
    r"(?<![\w/.-])((?:operator/eks_oidc_operator/|operator/eks_simulator/|hack/|tests/|docs/|"
    r"benchmarks/|charts/|deploy/|crds/|\.github/)[\w./-]*\w)"
)
PACKAGE_PATH = re.compile(
    r"(?<![\w/.-])((?:handlers|reconcile|eks|models|oidc|election)/[\w/]+\.py)"
)
RELATIVE_ROLE = re.compile(r":(?:mod|func|class|data|meth|attr|exc):`~?\.([A-Za-z_][\w.]*)`")
PACKAGE = REPO / "operator" / "eks_oidc_operator"


def _resolves(dotted: str) -> bool:
    """``dotted`` names a module, or an attribute reached from the longest module it starts
    with."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(name) is not None
        except (ModuleNotFoundError, ValueError):
            found = False
        if found:
            target: object = importlib.import_module(name)
            for attribute in parts[cut:]:
                if not hasattr(target, attribute):
                    return False
                target = getattr(target, attribute)
            return True
    return False


def _module_of(path: Path) -> str | None:
    rel = path.relative_to(REPO).with_suffix("").parts
    if rel[0] == "operator":
        rel = rel[1:]
    elif rel[:2] == ("hack", "testing"):
        rel = rel[2:]
    else:
        return None
    return ".".join(rel[:-1] if rel[-1] == "__init__" else rel)


def test_every_module_and_path_a_file_names_exists() -> None:
    """Docstrings and docs name modules (``eks_oidc_operator.reconcile.plan``, ``:func:`~.x``,
    ``runtime/pacing/timers.py``) and files (``hack/release/local.sh``): a rename must take them
    along, or this fails naming where."""
    stale = []
    files = [*_tracked_text_files(), REPO / "CHANGELOG.md", REPO / "Makefile"]
    for path in files:
        text, where = path.read_text(), str(path.relative_to(REPO))
        stale += [(where, d) for d in DOTTED.findall(text) if not _resolves(d)]
        stale += [
            (where, m.group(1))
            for m in REPO_PATH.finditer(text)
            # A path inside a regular expression (``build\.sh``) or a pattern is not a name.
            if text[m.end() : m.end() + 1] != "\\"
            and not any(c in m.group(1) for c in "*<{")
            and not (REPO / m.group(1)).exists()
        ]
        stale += [
            (where, p)
            for p in PACKAGE_PATH.findall(text)
            if not (PACKAGE / p).exists() and not (REPO / p).exists()
        ]
        module = _module_of(path) if path.suffix == ".py" else None
        if module is None:
            continue
        chain = module.split(".")
        for ref in RELATIVE_ROLE.findall(text):
            if not any(
                _resolves(".".join([*chain[:cut], ref])) for cut in range(len(chain), 0, -1)
            ):
                stale.append((where, "." + ref))
    assert stale == []
