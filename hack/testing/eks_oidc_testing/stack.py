"""The whole local stack in one ``with``: control plane, CRD, EKS simulator, and an operator.

For benchmarks and ``make demo`` (anything that wants the parts without pytest's fixtures). The
operator runs with the admin identity and the operator's *default* schedule: a benchmark
measures the operator as shipped, not RBAC or the tests' scaled-down timings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eks_oidc_testing import controlplane
from eks_oidc_testing.operator_process import OperatorProcess
from eks_oidc_testing.paths import CRD_FILE
from eks_oidc_testing.simulator import SimulatorHandle, running_simulator


@dataclass(frozen=True)
class Stack:
    """The running parts."""

    plane: controlplane.ControlPlane
    sim: SimulatorHandle
    binaries: Path
    workdir: Path
    started: list[OperatorProcess] = field(default_factory=list)
    """Every operator :meth:`operator` started: the stack stops those still running at exit
    (an operator left behind keeps retrying a gone API server, and its CPU skews the next
    benchmark's figures)."""

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        """kubectl as the admin; returns stdout."""
        return subprocess.run(
            [str(self.binaries / "kubectl"), f"--kubeconfig={self.plane.admin_kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def install_crd(self) -> None:
        """Apply the CRD (server-side) and wait until the API server serves it."""
        self.kubectl("apply", "--server-side", "-f", str(CRD_FILE))
        self.kubectl("wait", "--for=condition=Established", "crd/oidcidentityproviders.eksoidc.io")

    def operator(self, env: Mapping[str, str] | None = None) -> OperatorProcess:
        """A started operator process with the default schedule (plus ``env``)."""
        process = OperatorProcess(
            Path(self.plane.admin_kubeconfig),
            self.sim.url,
            self.workdir / "operator.log",
            extra_env={"EKS_OIDC_METRICS_PORT": "0", **(env or {})},
            fast=False,
        )
        process.start()
        self.started.append(process)
        return process


@contextmanager
def local_stack(**simulator_options: Any) -> Iterator[Stack]:
    """Start everything (simulator options as in ``running_simulator``); stop it all at exit."""
    binaries = controlplane.bin_dir()
    with (
        tempfile.TemporaryDirectory(prefix="stack-") as tmp,
        controlplane.running(Path(tmp) / "cp", binaries=binaries) as plane,
        running_simulator(**simulator_options) as sim,
    ):
        stack = Stack(plane, sim, binaries, Path(tmp))
        try:
            stack.install_crd()
            yield stack
        finally:
            for process in stack.started:
                process.stop()
            _keep_logs(stack.workdir)


def _keep_logs(workdir: Path) -> None:
    """Copy the operator's log out of the stack's temporary directory when ``STACK_KEEP_LOGS``
    names a directory: a benchmark's figures say what happened, the log says why."""
    target = os.environ.get("STACK_KEEP_LOGS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for log in workdir.glob("*.log"):
        shutil.copy(log, Path(target) / log.name)
