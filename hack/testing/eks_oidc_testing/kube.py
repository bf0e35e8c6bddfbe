"""A Kubernetes cluster for the e2e tests, and kubectl as its users would run it.

The tests speak to the API server through the same ``kubectl`` a user has (version-matched, built
by ``hack/controlplane/build.sh``), so what they prove is what a user sees at ``kubectl apply``.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Cluster:
    """A reachable API server with an admin and an operator identity."""

    admin_kubeconfig: Path
    operator_kubeconfig: Path
    kubectl_path: Path
    version: str
    kind: str
    """``local`` (our control plane), ``kind``, or ``existing`` (E2E_KUBECONFIG)."""

    def kubectl(
        self,
        *args: str,
        as_operator: bool = False,
        stdin: str | None = None,
        check: bool = True,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl as the admin (default) or as the operator's ServiceAccount identity."""
        kubeconfig = self.operator_kubeconfig if as_operator else self.admin_kubeconfig
        result = subprocess.run(
            [str(self.kubectl_path), f"--kubeconfig={kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            msg = f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            raise AssertionError(msg)
        return result

    def apply(
        self, manifest: dict[str, Any] | str, *extra: str
    ) -> subprocess.CompletedProcess[str]:
        """``kubectl apply -f -`` of one manifest; the caller checks the outcome."""
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return self.kubectl("apply", "-f", "-", *extra, stdin=text, check=False)

    def get_json(self, *args: str) -> Any:
        """``kubectl get ... -o json``, parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)


def unique_name(prefix: str) -> str:
    """A DNS-1123 name that no other test (or run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def operator_kubeconfig_via_token_request(
    admin_kubeconfig: Path, kubectl_path: Path, out: Path, namespace: str, account: str
) -> Path:
    """For clusters we did not start (kind, E2E_KUBECONFIG): a real ServiceAccount token."""

    def run(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [str(kubectl_path), f"--kubeconfig={admin_kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    run(
        "apply",
        "-f",
        "-",
        stdin=json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        ),
    )
    run(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        stdin=json.dumps(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}}
        ),
    )
    token = run("-n", namespace, "create", "token", account, "--duration=2h").strip()
    config = json.loads(run("config", "view", "--raw", "--minify", "-o", "json"))
    config["users"] = [{"name": account, "user": {"token": token}}]
    config["contexts"][0]["context"]["user"] = account
    out.write_text(json.dumps(config))
    return out
