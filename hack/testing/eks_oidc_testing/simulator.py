"""Run the EKS simulator as a subprocess and talk to it, for tests, benchmarks and the demo.

Usage::

    with running_simulator(clusters=["prod:1.32"], manual_clock=True) as sim:
        eks = sim.boto3_client()
        eks.associate_identity_provider_config(...)
        sim.advance(3600)
        assert sim.stats()["operations"]["AssociateIdentityProviderConfig"] == {"200": 1}

Keyword options become command-line flags of ``python -m eks_simulator``: underscores turn
into dashes, ``True`` is a bare flag, ``False``/``None`` are left out, a list for
``clusters`` is comma-joined, and a list for ``fault`` repeats the flag (dicts are
JSON-encoded). The process is started on ``--port 0`` and stopped by its pid (SIGTERM, then
SIGKILL after a grace period) when the context exits.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_eks.type_defs import OidcIdentityProviderConfigRequestTypeDef
    from mypy_boto3_sts import STSClient

LISTENING_PREFIX = "eks-simulator listening on "
START_TIMEOUT_SECONDS = 30.0
"""Generous: the machine may be busy; a normal start takes about a second."""
STOP_TIMEOUT_SECONDS = 10.0


class SimulatorError(RuntimeError):
    """The simulator process failed to start or a control call failed."""


@dataclass
class SimulatorClient:
    """Helpers for the EKS and control APIs of a simulator at ``url``, wherever it runs: a
    process of this test run (:class:`SimulatorHandle`) or a pod reached through a port."""

    url: str
    _session: boto3.session.Session = field(default_factory=boto3.session.Session, repr=False)
    _session_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -------------------------------------------------------------- EKS

    def boto3_client(
        self,
        region: str = "us-west-2",
        *,
        config: Config | None = None,
        max_attempts: int | None = None,
        credentials: Mapping[str, Any] | None = None,
    ) -> EKSClient:
        """An unmodified boto3 EKS client pointed at this simulator (dummy credentials, or
        ``credentials`` as AssumeRole returns them: ``AccessKeyId``, ``SecretAccessKey``,
        ``SessionToken``).

        ``max_attempts`` sets botocore's standard-mode ``total_max_attempts``.
        """
        if config is None and max_attempts is not None:
            config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts})
        # boto3 sessions are not thread-safe, and callers make clients from many threads:
        # one session per handle (its loaded service model is reused), behind a lock.
        with self._session_lock:
            return self._session.client(
                "eks",
                endpoint_url=self.url,
                region_name=region,
                aws_access_key_id=credentials["AccessKeyId"] if credentials else "AKIDSIMULATOR",
                aws_secret_access_key=(
                    credentials["SecretAccessKey"] if credentials else "simulator-secret"
                ),
                aws_session_token=credentials["SessionToken"] if credentials else None,
                config=config,
            )

    def sts_client(
        self, region: str = "us-west-2", *, access_key_id: str = "AKIDSIMULATOR"
    ) -> STSClient:
        """An unmodified boto3 STS client pointed at this simulator (dummy credentials).

        ``access_key_id`` is what the journal records as the caller (``access_key_id``) and
        what an ``AccessDenied`` message names (``user/<access key id>``).
        """
        with self._session_lock:
            return self._session.client(
                "sts",
                endpoint_url=self.url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key="simulator-secret",  # noqa: S106 - a dummy, never checked
            )

    # -------------------------------------------------------------- control API

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One control-API call; returns the decoded JSON answer (raises on HTTP >= 400)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - always our own http:// loopback URL
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            msg = f"{method} {path} -> {error.code}: {detail}"
            raise SimulatorError(msg) from error

    def advance(self, seconds: float) -> float:
        """Move the simulated clock forward; returns the new simulated time."""
        now: float = self.call("POST", "/_sim/advance", {"seconds": seconds})["now"]
        return now

    def now(self) -> float:
        """The simulated time (epoch seconds)."""
        now: float = self.call("GET", "/_sim/clock")["now"]
        return now

    def stats(self) -> dict[str, Any]:
        """``{"operations": {"<OperationName>": {"<httpStatus>": count}}}``."""
        result: dict[str, Any] = self.call("GET", "/_sim/stats")
        return result

    def count(self, operation: str, status: int | None = None) -> int:
        """Calls of ``operation`` counted so far (with that status, or all statuses)."""
        by_status: dict[str, int] = self.stats()["operations"].get(operation, {})
        if status is None:
            return sum(by_status.values())
        return by_status.get(str(status), 0)

    def calls_by_operation(self) -> dict[str, int]:
        """Calls counted so far per operation, all statuses together."""
        operations: dict[str, dict[str, int]] = self.stats()["operations"]
        return {op: sum(by_status.values()) for op, by_status in operations.items()}

    def reset_stats(self) -> None:
        """Zero the counters."""
        self.call("POST", "/_sim/stats/reset")

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The recent-call journal: operation, status, cluster, client_request_token, attempt,
        access_key_id, and role_arn, role_session_name, external_id (``AssumeRole``: what was
        sent; EKS calls: the role session that signed them, if the simulator issued it)."""
        path = "/_sim/requests" + (f"?operation={operation}" if operation else "")
        calls: list[dict[str, Any]] = self.call("GET", path)["requests"]
        return calls

    def faults(self, *specs: dict[str, Any]) -> list[dict[str, Any]]:
        """Add faults (see docs/simulator.md); returns what was added."""
        added: list[dict[str, Any]] = self.call("POST", "/_sim/faults", {"faults": list(specs)})[
            "added"
        ]
        return added

    def active_faults(self) -> dict[str, Any]:
        """``{"rules", "assumeRole", "failAssociations", "failDisassociations",
        "phantomUpdates"}``."""
        listing: dict[str, Any] = self.call("GET", "/_sim/faults")
        return listing

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.call("DELETE", "/_sim/faults")

    def configure(self, **patch: Any) -> dict[str, Any]:
        """``POST /_sim/config``, e.g. ``configure(associateSeconds=60)``."""
        config: dict[str, Any] = self.call("POST", "/_sim/config", patch)
        return config

    def create_cluster(
        self, name: str, version: str | None = None, *, status: str = "ACTIVE"
    ) -> dict[str, Any]:
        """Create a cluster directly (ACTIVE unless ``status="CREATING"``)."""
        body: dict[str, Any] = {"name": name, "status": status}
        if version is not None:
            body["version"] = version
        cluster: dict[str, Any] = self.call("POST", "/_sim/clusters", body)["cluster"]
        return cluster

    def delete_cluster(self, name: str) -> None:
        """Remove a cluster immediately."""
        self.call("DELETE", f"/_sim/clusters/{name}")

    def reset(self) -> None:
        """Forget every resource, fault, counter and runtime config change."""
        self.call("POST", "/_sim/reset")


@dataclass(kw_only=True)
class SimulatorHandle(SimulatorClient):
    """A running simulator process and helpers for its EKS and control APIs."""

    process: subprocess.Popen[bytes]
    stderr_path: Path
    argv: list[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the process by pid (``sig``, then SIGKILL); returns its exit code."""
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def stderr(self) -> str:
        """What the process wrote to stderr so far."""
        return self.stderr_path.read_text(errors="replace")


def oidc_request(
    name: str = "idp", issuer: str = "https://issuer.example.com", **extra: Any
) -> OidcIdentityProviderConfigRequestTypeDef:
    """An ``oidc`` member for AssociateIdentityProviderConfig (client id ``kubernetes``)."""
    request = {
        "identityProviderConfigName": name,
        "issuerUrl": issuer,
        "clientId": "kubernetes",
        **extra,
    }
    return cast("OidcIdentityProviderConfigRequestTypeDef", request)


def simulator_argv(*extra: str, **options: Any) -> list[str]:
    """The command line for ``options`` (see the module docstring)."""
    argv = [sys.executable, "-m", "eks_simulator"]
    options.setdefault("port", 0)
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif key == "clusters" and isinstance(value, list | tuple):
            argv += [flag, ",".join(value)]
        elif isinstance(value, list | tuple):
            for item in value:
                argv += [flag, json.dumps(item) if isinstance(item, dict) else str(item)]
        else:
            argv += [flag, json.dumps(value) if isinstance(value, dict) else str(value)]
    return argv + list(extra)


def _read_listening_line(stdout: IO[bytes], process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                break
            if selector.select(timeout=min(remaining, 0.5)):
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    break
                buffer += chunk
    line = buffer.split(b"\n", 1)[0].decode(errors="replace").strip()
    if not line.startswith(LISTENING_PREFIX):
        msg = f"simulator did not start (exit code {process.poll()}); stdout: {buffer!r}"
        raise SimulatorError(msg)
    return line.removeprefix(LISTENING_PREFIX)


@contextmanager
def running_simulator(*extra_args: str, **options: Any) -> Iterator[SimulatorHandle]:
    """Start ``python -m eks_simulator --port 0 ...``; yield a handle; stop it at exit."""
    argv = simulator_argv(*extra_args, **options)
    with tempfile.TemporaryDirectory(prefix="eks-simulator-") as tmp:
        stderr_path = Path(tmp) / "stderr.log"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr)
        handle: SimulatorHandle | None = None
        try:
            assert process.stdout is not None
            try:
                url = _read_listening_line(process.stdout, process)
            except SimulatorError as error:
                msg = f"{error}\nstderr:\n{stderr_path.read_text(errors='replace')}"
                raise SimulatorError(msg) from error
            handle = SimulatorHandle(url=url, process=process, stderr_path=stderr_path, argv=argv)
            yield handle
        finally:
            if handle is not None:
                handle.stop()
            else:
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=STOP_TIMEOUT_SECONDS)
                # A simulator that never started leaves its pipe to us: close it, or the
                # ResourceWarning fails a suite that treats warnings as errors.
                if process.stdout is not None:
                    process.stdout.close()
