"""The launcher's failure paths: a server that will not start is reported with its own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from eks_oidc_testing import controlplane, ports


def _fake_binary(path: Path, script: str) -> None:
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def test_a_server_that_exits_at_start_is_reported_with_the_tail_of_its_log(tmp_path: Path) -> None:
    binaries = tmp_path / "bin"
    binaries.mkdir()
    _fake_binary(binaries / "etcd", 'echo "etcdmain: bad flag --frobnicate" >&2; exit 3')
    _fake_binary(binaries / "kube-apiserver", "exit 1")
    with pytest.raises(controlplane.ControlPlaneError) as caught:
        controlplane.start(tmp_path / "state", binaries=binaries)
    message = str(caught.value)
    assert "etcd exited with code 3" in message
    assert "bad flag --frobnicate" in message
    assert not (tmp_path / "state" / "controlplane.json").exists()


def test_stop_without_a_recorded_control_plane_is_a_no_op(tmp_path: Path) -> None:
    assert controlplane.stop(tmp_path) is False


def test_free_ports_are_distinct_and_bindable() -> None:
    picked = {ports.free_port() for _ in range(5)}
    assert len(picked) == 5
    assert all(1024 < port < 65536 for port in picked)
