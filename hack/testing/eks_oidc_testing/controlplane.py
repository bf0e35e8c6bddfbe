"""Start and stop a real local Kubernetes control plane: etcd + kube-apiserver on loopback.

Used by pytest (the ``cluster`` fixture), ``make demo``, the benchmarks, and by ``make
cluster-up`` / ``make cluster-down`` (``python -m eks_oidc_testing.controlplane up|down``). The
binaries come from ``hack/controlplane/build.sh`` (built from published Go modules). This
module brings its own PKI, a static token file with two identities (an admin in
``system:masters`` and the operator's ServiceAccount identity, so RBAC bound to that
ServiceAccount applies to it exactly as in a pod), free loopback ports, and kubeconfigs.

Everything one control plane needs lives in one state directory, so two runs side by side
never collide. Processes are stopped by pid; with ``die_with_parent`` they also die with the
process that started them (pytest), so a killed test run leaves nothing behind.

Only the standard library and ``cryptography`` are used: it imports nothing from the
operator or the simulator.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from eks_oidc_testing.paths import BUILD_SCRIPT, REPO
from eks_oidc_testing.pki import LOOPBACK, new_ca, serving_cert, write_cert, write_key
from eks_oidc_testing.ports import free_port, start_retrying

DEFAULT_STATE_DIR = REPO / ".local"
OPERATOR_NAMESPACE = "eks-oidc-system"
OPERATOR_SERVICE_ACCOUNT = "eks-oidc-operator"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_SERVICE_ACCOUNT}"
START_TIMEOUT_S = 60.0
"""etcd + apiserver usually need 5-10 s on two cores; a cold page cache can triple that."""
STOP_TIMEOUT_S = 10.0
"""SIGTERM grace before SIGKILL: both servers shut down in well under a second normally."""
LOG_TAIL_LINES = 40


_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Servers this process started, kept so they are waited for (not garbage-collected running)."""


class ControlPlaneError(RuntimeError):
    """The control plane could not be built, started or reached."""


@dataclass(frozen=True)
class ControlPlane:
    """A running control plane, as written to ``<state_dir>/controlplane.json``."""

    state_dir: str
    server: str
    etcd_url: str
    apiserver_pid: int
    etcd_pid: int
    admin_kubeconfig: str
    operator_kubeconfig: str
    admin_token: str
    operator_token: str
    ca_file: str
    version: str

    @classmethod
    def load(cls, state_dir: Path) -> ControlPlane:
        """Read the state file of a control plane started earlier."""
        return cls(**json.loads((state_dir / "controlplane.json").read_text()))


# --------------------------------------------------------------------------- binaries


def bin_dir() -> Path:
    """Build (or find in the cache) the binaries and return the folder holding them."""
    override = os.environ.get("EKS_OIDC_BIN_DIR")
    if override:
        return Path(override)
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        msg = f"build.sh failed with exit code {result.returncode}"
        raise ControlPlaneError(msg)
    return Path(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- PKI


def _make_pki(pki: Path) -> None:
    """A CA, a serving certificate for 127.0.0.1/localhost, and a ServiceAccount signing key."""
    pki.mkdir(parents=True, exist_ok=True)
    ca = new_ca("eks-oidc-local-ca", days=30)
    names = [x509.DNSName("localhost"), *LOOPBACK]
    serving, serving_key = serving_cert(ca, "kube-apiserver", names, days=30)
    write_cert(pki / "ca.crt", ca[0])
    write_key(pki / "ca.key", ca[1])
    write_cert(pki / "apiserver.crt", serving)
    write_key(pki / "apiserver.key", serving_key)
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_key(pki / "sa.key", sa_key)
    (pki / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _kubeconfig(server: str, ca_file: Path, user: str, token: str) -> str:
    ca_data = base64.b64encode(ca_file.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "local", "cluster": {"server": server, "certificate-authority-data": ca_data}}
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": "local", "user": user}}],
        "current-context": user,
    }
    return json.dumps(config, indent=2)  # JSON is YAML: no PyYAML needed here


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG = 1: the kernel sends SIGTERM to the child when its parent dies, so a
    # pytest run killed with SIGKILL does not leave an apiserver holding a port.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)


def _spawn(argv: Sequence[str], log: Path, *, die_with_parent: bool) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal goes to us, not to the servers
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    _CHILDREN[proc.pid] = proc
    return proc


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def _wait_until(
    check: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"{what} exited with code {proc.returncode}; last log lines:\n{_tail(log)}"
            raise ControlPlaneError(msg)
        if check():
            return
        time.sleep(0.2)
    msg = f"{what} not ready after {START_TIMEOUT_S:.0f}s; last log lines:\n{_tail(log)}"
    raise ControlPlaneError(msg)


def _http_ok(url: str, token: str | None = None, ca_file: Path | None = None) -> bool:
    request = urllib.request.Request(url)  # noqa: S310 - loopback URLs we built ourselves
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:  # noqa: S310
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _api(plane: ControlPlane, method: str, path: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback URL we built ourselves
        plane.server + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": f"Bearer {plane.admin_token}",
            "Content-Type": "application/json",
        },
    )
    context = ssl.create_default_context(cafile=plane.ca_file)
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        if error.code == 409:  # already exists: fine, `up` is repeatable
            return 409
        raise


def stop_pid(pid: int) -> None:
    """SIGTERM a process group, wait, then SIGKILL; a pid that is gone already is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    child = _CHILDREN.pop(pid, None)
    if child is not None:  # ours: Popen.wait reaps it
        try:
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _pid_alive(pid):  # started by another process (`make cluster-up`): just watch
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start(
    state_dir: Path = DEFAULT_STATE_DIR,
    *,
    die_with_parent: bool = False,
    binaries: Path | None = None,
) -> ControlPlane:
    """Start etcd and kube-apiserver, wait for ``/readyz``, write kubeconfigs, return handles."""
    state_dir = state_dir.resolve()
    existing = state_dir / "controlplane.json"
    if existing.exists():
        old = ControlPlane.load(state_dir)
        if _pid_alive(old.apiserver_pid) and _pid_alive(old.etcd_pid):
            return old  # already up: `make cluster-up` twice is harmless
        stop(state_dir)
    binaries = binaries or bin_dir()
    state_dir.mkdir(parents=True, exist_ok=True)
    run_dir = state_dir / "controlplane"
    if run_dir.exists():
        subprocess.run(["rm", "-rf", str(run_dir)], check=True)
    run_dir.mkdir()
    pki = run_dir / "pki"
    _make_pki(pki)
    admin_token = secrets.token_hex(16)
    operator_token = secrets.token_hex(16)
    groups = f"system:serviceaccounts,system:serviceaccounts:{OPERATOR_NAMESPACE}"
    (run_dir / "tokens.csv").write_text(
        f'{admin_token},admin,uid-admin,"system:masters"\n'
        f'{operator_token},{OPERATOR_USER},uid-eks-oidc-operator,"{groups}"\n'
    )
    (run_dir / "tokens.csv").chmod(0o600)

    etcd_port, peer_port = free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{etcd_port}"
    peer_url = f"http://127.0.0.1:{peer_port}"
    etcd_log = run_dir / "etcd.log"
    etcd = _spawn(
        [
            str(binaries / "etcd"),
            f"--data-dir={run_dir / 'etcd-data'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--unsafe-no-fsync=true",  # throwaway data: fsync only costs time
            "--log-level=warn",
        ],
        etcd_log,
        die_with_parent=die_with_parent,
    )
    try:
        _wait_until(lambda: _http_ok(f"{etcd_url}/health"), etcd, "etcd", etcd_log)
        port = free_port()
        server = f"https://127.0.0.1:{port}"
        api_log = run_dir / "kube-apiserver.log"
        apiserver = _spawn(
            [
                str(binaries / "kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                f"--service-account-issuer={server}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--authorization-mode=RBAC",
                f"--token-auth-file={run_dir / 'tokens.csv'}",
                # No controller-manager runs here, so nothing would mint ServiceAccount tokens.
                "--disable-admission-plugins=ServiceAccount",
                # Loopback is not a valid Endpoints address; skip the `kubernetes` Service.
                "--endpoint-reconciler-type=none",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                f"--cert-dir={pki}",
            ],
            api_log,
            die_with_parent=die_with_parent,
        )
    except BaseException:
        stop_pid(etcd.pid)
        raise
    ca_file = pki / "ca.crt"
    try:
        _wait_until(
            lambda: _http_ok(f"{server}/readyz", admin_token, ca_file),
            apiserver,
            "kube-apiserver",
            api_log,
        )
    except BaseException:
        stop_pid(apiserver.pid)
        stop_pid(etcd.pid)
        raise
    admin_kubeconfig = state_dir / "kubeconfig"
    operator_kubeconfig = state_dir / "operator.kubeconfig"
    admin_kubeconfig.write_text(_kubeconfig(server, ca_file, "admin", admin_token))
    operator_kubeconfig.write_text(_kubeconfig(server, ca_file, OPERATOR_USER, operator_token))
    admin_kubeconfig.chmod(0o600)
    operator_kubeconfig.chmod(0o600)
    plane = ControlPlane(
        state_dir=str(state_dir),
        server=server,
        etcd_url=etcd_url,
        apiserver_pid=apiserver.pid,
        etcd_pid=etcd.pid,
        admin_kubeconfig=str(admin_kubeconfig),
        operator_kubeconfig=str(operator_kubeconfig),
        admin_token=admin_token,
        operator_token=operator_token,
        ca_file=str(ca_file),
        version=_server_version(server, admin_token, ca_file),
    )
    existing.write_text(json.dumps(asdict(plane), indent=2))
    _bootstrap(plane)
    return plane


def _server_version(server: str, token: str, ca_file: Path) -> str:
    request = urllib.request.Request(  # noqa: S310 - loopback URL we built ourselves
        f"{server}/version", headers={"Authorization": f"Bearer {token}"}
    )
    context = ssl.create_default_context(cafile=str(ca_file))
    with urllib.request.urlopen(request, timeout=5, context=context) as response:  # noqa: S310
        return str(json.loads(response.read())["gitVersion"])


def _bootstrap(plane: ControlPlane) -> None:
    """The operator's namespace. Its ServiceAccount is the chart's to create (helm refuses to
    adopt objects it did not make), and the token identity works without the object."""
    _api(plane, "POST", "/api/v1/namespaces", {"metadata": {"name": OPERATOR_NAMESPACE}})


def stop(state_dir: Path = DEFAULT_STATE_DIR) -> bool:
    """Stop the control plane recorded in ``state_dir``; return whether one was recorded."""
    state_file = state_dir / "controlplane.json"
    if not state_file.exists():
        return False
    plane = ControlPlane.load(state_dir)
    stop_pid(plane.apiserver_pid)
    stop_pid(plane.etcd_pid)
    state_file.unlink()
    return True


@contextlib.contextmanager
def running(state_dir: Path, *, binaries: Path | None = None) -> Iterator[ControlPlane]:
    """A control plane for the duration of a ``with`` block (pytest's session fixture).

    Its ports were free when picked, but another process may bind one first (test workers
    side by side start their control planes together): then it starts again, on fresh ports,
    up to three times.
    """
    plane = start_retrying(lambda: start(state_dir, die_with_parent=True, binaries=binaries))
    try:
        yield plane
    finally:
        stop(state_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m eks_oidc_testing.controlplane up|down|status|build [--state-dir DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "build"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    args = parser.parse_args(argv)
    if args.command == "build":
        print(bin_dir())
        return 0
    if args.command == "down":
        print("stopped" if stop(args.state_dir) else "nothing was running")
        return 0
    if args.command == "status":
        try:
            plane = ControlPlane.load(args.state_dir)
        except FileNotFoundError:
            print("not running")
            return 1
        alive = _pid_alive(plane.apiserver_pid) and _pid_alive(plane.etcd_pid)
        print(f"{'running' if alive else 'dead'}: {plane.server} ({plane.version})")
        return 0 if alive else 1
    started = time.monotonic()
    try:
        plane = start(args.state_dir)
    except ControlPlaneError as error:
        print(f"cluster-up failed: {error}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"kube-apiserver {plane.version} ready at {plane.server} in {elapsed:.1f}s")
    print(f"  admin:    export KUBECONFIG={plane.admin_kubeconfig}")
    print(f"  operator: {plane.operator_kubeconfig} ({OPERATOR_USER})")
    print(f"  logs:     {Path(plane.state_dir) / 'controlplane'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
