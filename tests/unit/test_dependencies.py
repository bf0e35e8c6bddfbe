"""The dependencies as declared: kopf held to the minor whose private modules the code uses."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

from eks_oidc_testing.paths import REPO


def test_kopf_is_pinned_to_the_minor_its_private_modules_are_tested_on() -> None:
    # The operator imports kopf._core and kopf._cogs modules; a kopf 1.x that moved them would
    # have installed under ">=1.45,<2" and failed only at run time.
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (kopf,) = [d for d in declared if d.startswith("kopf")]
    bounds = dict(re.findall(r"(>=|<)([0-9.]+)", kopf))
    low, high = bounds[">="], bounds["<"]
    installed = version("kopf")
    assert installed.startswith(low + "."), (installed, kopf)
    major, minor = (int(part) for part in low.split(".")[:2])
    assert high == f"{major}.{minor + 1}", f"kopf is allowed past the tested minor: {kopf}"
