"""What an idle operator does not load: the Kubernetes client libraries kopf could use, and
boto3 until the first EKS client is asked for."""

from __future__ import annotations

import subprocess
import sys

LOADED = """
import sys
from eks_oidc_operator.__main__ import _without_client_libraries
_without_client_libraries()
import kopf
from eks_oidc_operator.handlers import Runtime, build_registry
from eks_oidc_operator.settings import OperatorSettings
build_registry(Runtime.from_settings(OperatorSettings()))
print(sorted(m for m in ("kubernetes", "pykube", "boto3", "botocore") if sys.modules.get(m)))
"""


def test_an_operator_with_no_objects_loads_neither_client_libraries_nor_boto3() -> None:
    run = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == "[]", run.stderr
