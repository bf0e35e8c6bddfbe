"""Run the operator as a real process, the way a pod would: its own identity, its own RBAC.

The process gets the operator ServiceAccount's kubeconfig (bound by the chart's ClusterRole, so
a missing verb fails the tests), boto3's standard variables pointing EKS and STS at the
simulator (which serves both on one port) with fake base credentials, and short ``EKS_OIDC_*``
timings so the lifecycle runs in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from eks_oidc_testing.ports import free_port, start_retrying

FAST_TIMINGS = {
    "EKS_OIDC_POLL_INITIAL_SECONDS": "0.5",
    "EKS_OIDC_POLL_FACTOR": "2",
    "EKS_OIDC_POLL_MAX_SECONDS": "1",
    "EKS_OIDC_RETRY_BASE_SECONDS": "0.5",
    "EKS_OIDC_RETRY_MAX_SECONDS": "2",
    "EKS_OIDC_SLOW_RETRY_BASE_SECONDS": "3",
    "EKS_OIDC_SLOW_RETRY_MAX_SECONDS": "6",
    "EKS_OIDC_RESYNC_SECONDS": "3",
    "EKS_OIDC_REQUEST_INTERVAL_SECONDS": "1",
    "EKS_OIDC_CLAIM_SETTLE_SECONDS": "0.2",  # the watch lag here is milliseconds
    # Test modules delete many objects within minutes; the mass-deletion guard has its own.
    "EKS_OIDC_DELETION_BUDGET": "1000",
    # The tests' issuers (login.example.com, ...) do not exist: only the pre-flight's own tests
    # turn it on, against an HTTPS issuer they serve themselves.
    "EKS_OIDC_ISSUER_CHECK": "Skip",
}
"""Seconds instead of minutes: the same schedule code, scaled down."""

OPEN_POLICY = {
    "rules": [{"name": "single-team", "namespaces": ["*"], "operatorIdentity": True, "adopt": True}]
}
"""The tenancy policy of a run that names none: every namespace may use the operator's own
identity and adopt configs, as the admin of a single-team management cluster would write it.
(The shipped default permits nothing; the tenancy tests give policies of their own.)"""


class OperatorProcess:
    """``python -m eks_oidc_operator run --all-namespaces`` (or ``-n NS ...``) as a subprocess.

    ``eks_endpoint`` is the simulator's URL; STS goes there too unless ``sts_endpoint`` names
    another. (Without an STS endpoint, a ``spec.roleArn`` would make the operator call the real
    STS with the fake credentials.)
    """

    def __init__(  # noqa: PLR0913 - three places to reach, five keyword-only options
        self,
        kubeconfig: Path,
        eks_endpoint: str,
        log_path: Path,
        *,
        region: str = "us-west-2",
        extra_env: Mapping[str, str] | None = None,
        namespaces: Sequence[str] = (),
        fast: bool = True,
        sts_endpoint: str | None = None,
    ) -> None:
        self.scope = [f"--namespace={ns}" for ns in namespaces] or ["--all-namespaces"]
        self.scope += ["-v"] if os.environ.get("DEBUG_OPERATOR") else []
        self.log_path = log_path
        self.liveness_port = free_port()
        self.metrics_port = free_port()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "EKS_OIDC_", "KUBECONFIG"))
        }
        self.env.update(
            {
                "KUBECONFIG": str(kubeconfig),
                "AWS_ENDPOINT_URL_EKS": eks_endpoint,
                "AWS_ENDPOINT_URL_STS": sts_endpoint or eks_endpoint,
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "secret",
                "AWS_REGION": region,
                "AWS_EC2_METADATA_DISABLED": "true",
                "EKS_OIDC_LIVENESS_PORT": str(self.liveness_port),
                "EKS_OIDC_METRICS_PORT": str(self.metrics_port),
                **(FAST_TIMINGS if fast else {}),
                **(extra_env or {}),
            }
        )
        if "EKS_OIDC_TENANCY_FILE" not in self.env:
            policy = log_path.with_name(f"{log_path.stem}-tenancy.yaml")
            policy.write_text(json.dumps(OPEN_POLICY))  # JSON is YAML
            self.env["EKS_OIDC_TENANCY_FILE"] = str(policy)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until its liveness endpoint answers.

        Its ports were free when picked, but another process may bind one before the operator
        does (more likely with test workers side by side, each starting servers and opening
        connections): then it starts again on fresh ports, up to three times.
        """
        start_retrying(self._start_once, self._fresh_ports)

    def _start_once(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eks_oidc_operator", "run", *self.scope],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"operator exited with {self.process.returncode}:\n{self.log_tail()}"
                raise RuntimeError(msg)
            try:
                url = f"http://127.0.0.1:{self.liveness_port}/healthz"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        msg = f"operator not live after 30s:\n{self.log_tail()}"
        raise RuntimeError(msg)

    def _fresh_ports(self) -> None:
        """New liveness and metrics ports (a port the caller set, such as 0, stays)."""
        for key, attribute in (
            ("EKS_OIDC_LIVENESS_PORT", "liveness_port"),
            ("EKS_OIDC_METRICS_PORT", "metrics_port"),
        ):
            if self.env.get(key) == str(getattr(self, attribute)):
                setattr(self, attribute, free_port())
                self.env[key] = str(getattr(self, attribute))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGKILL simulates a crash: no cleanup at all)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def rss_mib(self) -> float:
        """Its resident memory now, in MiB (0 once it has exited)."""
        return self._status_mib("VmRSS:")

    def peak_rss_mib(self) -> float:
        """The most resident memory it has had so far, in MiB (0 once it has exited)."""
        return self._status_mib("VmHWM:")

    def _status_mib(self, field: str) -> float:
        if self.process is None:
            return 0.0
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0.0
        for line in status.splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
        return 0.0

    def metrics(self) -> str:
        """Its Prometheus ``/metrics`` page."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text: str = response.read().decode()
            return text

    def log_tail(self, lines: int = 60) -> str:
        """The end of its log, for failure messages."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log(self) -> str:
        """Its whole log."""
        return self.log_path.read_text(errors="replace")
