"""The repo explains itself: every section a file cites exists, and every doc link resolves.

Code and docs cite ``docs/eks-behaviour.md §3.5`` and the like; a renumbered doc would leave
them pointing at nothing, so the citations are checked against the doc's own headings.
"""

from __future__ import annotations

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
