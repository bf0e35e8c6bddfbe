"""kopf's internals the operator uses are where it expects them in the installed kopf.

Every use lives in ``kopf_private/`` and is listed in its ``USED``; this test fails when
a kopf upgrade moves one, so the upgrade fails the tests rather than the operator. It also keeps
the list honest: no module outside that package imports a private kopf module.
"""

from __future__ import annotations

import importlib
import re

from eks_oidc_operator.kopf_private import USED
from eks_oidc_testing.paths import REPO

PRIVATE_IMPORT = re.compile(r"^\s*(from|import)\s+kopf\._", re.MULTILINE)


def test_every_kopf_internal_used_is_in_the_installed_kopf() -> None:
    missing = [
        f"{module}.{name}"
        for module, name in USED
        if not hasattr(importlib.import_module(module), name)
    ]
    assert missing == []


def test_only_the_kopf_private_package_imports_kopf_internals() -> None:
    package = REPO / "operator" / "eks_oidc_operator"
    private = package / "kopf_private"
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if private not in path.parents and PRIVATE_IMPORT.search(path.read_text())
    ]
    assert offenders == []
    used_modules = {module for module, _ in USED}
    for path in private.glob("*.py"):
        for module, name in re.findall(r"from (kopf\._[\w.]+) import (\w+)", path.read_text()):
            found = {module, f"{module}.{name}"} & used_modules
            assert found, f"{path.name} uses {module}.{name}, which USED does not list"
