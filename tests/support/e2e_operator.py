"""The operator as a real process under the chart's RBAC, for the e2e tier."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eks_oidc_testing.kube import Cluster
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle


@contextmanager
def running_operator(
    cluster: Cluster,
    simulator: SimulatorHandle,
    folder: Path,
    env: Mapping[str, str] | None = None,
    tenancy: Mapping[str, Any] | None = None,
) -> Iterator[OperatorProcess]:
    """The operator as a real process under the chart's RBAC, with ``env`` on top of the test
    defaults and, when given, the ``tenancy`` policy as its policy file; fails the suite at the
    end if the API server refused it anything."""
    extra = dict(env or {})
    if tenancy is not None:
        policy = folder / "tenancy.yaml"
        policy.write_text(json.dumps(tenancy))  # JSON is YAML
        extra["EKS_OIDC_TENANCY_FILE"] = str(policy)
    process = OperatorProcess(
        cluster.operator_kubeconfig, simulator.url, folder / "operator.log", extra_env=extra
    )
    process.start()
    yield process
    process.stop()
    # RBAC denials never fail a handler loudly; they must still fail the suite. (Other 403s,
    # such as events refused in a namespace being terminated, are not about our role.)
    denied = [
        line for line in process.log().splitlines() if "cannot" in line and "forbidden" in line
    ]
    assert denied == [], "\n".join(denied[:5])
