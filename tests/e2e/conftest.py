"""E2E wiring for the operator: the CRD, the chart's RBAC, the EKS simulator, the operator."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing.kube import Cluster, unique_name
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.simulator import SimulatorHandle, running_simulator


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    with running_simulator(associate_seconds=2, disassociate_seconds=2, seed=7) as sim:
        yield sim


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


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster,
    crd_installed: None,
    chart_rbac: str,
    simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    with running_operator(cluster, simulator, tmp_path_factory.mktemp("operator")) as process:
        yield process


@pytest.fixture
def eks_cluster(simulator: SimulatorHandle) -> str:
    """A fresh ACTIVE EKS cluster in the simulator, one per test."""
    name = unique_name("c")
    simulator.create_cluster(name, "1.33")
    return name


def manifest(name: str, namespace: str, cluster: str, **spec: Any) -> dict[str, Any]:
    """An OidcIdentityProvider as a user writes it."""
    oidc = {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"}
    oidc.update(spec.pop("oidc", {}))
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterName": cluster, "oidc": oidc, **spec},
    }


def eventually(
    what: str,
    probe: Callable[[], Any],
    timeout: float = 120,
    interval: float = 0.3,
    hint: Callable[[], str] = lambda: "",
) -> Any:
    """Poll ``probe`` until it returns something truthy, else fail saying what was awaited, the
    last answer, and what ``hint`` says at that moment (an operator's log, say)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; last: {last!r}\n{hint()}")


def wait_for(
    what: str,
    probe: Callable[[], Any],
    operator: OperatorProcess,
    timeout: float = 60,
    interval: float = 0.3,
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with the operator's log."""
    return eventually(
        what, probe, timeout, interval, hint=lambda: f"--- operator log:\n{operator.log_tail()}"
    )


def get_object(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    """The object, or None once it is gone."""
    result = cluster.kubectl("get", f"oidcidp/{name}", "-n", namespace, "-o", "json", check=False)
    if result.returncode != 0:
        return None
    obj: dict[str, Any] = json.loads(result.stdout)
    return obj


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any]:
    """One condition of an object ({} when absent)."""
    for entry in (obj or {}).get("status", {}).get("conditions", []):
        if entry["type"] == type_:
            found: dict[str, Any] = entry
            return found
    return {}


def events_of(cluster: Cluster, namespace: str, name: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of every event about the object, oldest first."""
    items = cluster.get_json(
        "events", "-n", namespace, f"--field-selector=involvedObject.name={name}"
    )["items"]
    items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [(e["type"], e["reason"], e.get("message", "")) for e in items]


def with_condition(
    cluster: Cluster, namespace: str, name: str, type_: str
) -> dict[str, Any] | None:
    """The object, once its condition ``type_`` is True (else None)."""
    obj = get_object(cluster, namespace, name)
    return obj if condition(obj, type_).get("status") == "True" else None


def eks_calls(simulator: SimulatorHandle, cluster: str) -> int:
    """Every EKS call the simulator has seen on ``cluster``."""
    return sum(1 for call in simulator.requests() if call.get("cluster") == cluster)


def calls(simulator: SimulatorHandle, operation: str, cluster: str) -> int:
    """How many calls of ``operation`` on ``cluster`` the simulator has seen."""
    return sum(1 for call in simulator.requests(operation) if call.get("cluster") == cluster)


def new_name() -> str:
    """A name for a test object."""
    return unique_name("idp")
