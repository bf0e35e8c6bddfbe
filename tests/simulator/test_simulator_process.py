"""The command line: --help, --port 0, flags, the state file across restarts, SIGTERM.

Each test starts its own simulator process (the shared one cannot be restarted).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eks_oidc_testing.simulator import oidc_request, running_simulator, simulator_argv

EVERY_FLAG = [
    "--host",
    "--port",
    "--clusters",
    "--profile",
    "--associate-seconds",
    "--disassociate-seconds",
    "--create-cluster-seconds",
    "--delete-cluster-seconds",
    "--failed-config-gc-seconds",
    "--manual-clock",
    "--state-file",
    "--region",
    "--account-id",
    "--default-version",
    "--provider-limit",
    "--cluster-limit",
    "--legacy-idp-list-max-results",
    "--fetch-issuers",
    "--issuer-ca-file",
    "--throttle-rate",
    "--server-error-rate",
    "--fault",
    "--seed",
    "--log-level",
]


def test_help_documents_every_flag() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "eks_simulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for flag in EVERY_FLAG:
        assert flag in result.stdout, flag
    assert "AWS_ENDPOINT_URL_EKS" in result.stdout


def test_flags_shape_the_simulator() -> None:
    with running_simulator(
        clusters=["old:1.31", "new"],
        associate_seconds=600,
        manual_clock=True,
        region="eu-central-1",
        account_id="210987654321",
        fault=[{"kind": "throttle", "operation": "ListClusters", "count": 1}],
    ) as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        assert not sim.url.endswith(":0")
        eks = sim.boto3_client(region="eu-central-1", max_attempts=1)
        with pytest.raises(eks.exceptions.ThrottlingException):
            eks.list_clusters()
        assert eks.list_clusters()["clusters"] == ["new", "old"]
        old = eks.describe_cluster(name="old")["cluster"]
        assert old["version"] == "1.31"
        assert old["arn"] == "arn:aws:eks:eu-central-1:210987654321:cluster/old"
        assert eks.describe_cluster(name="new")["cluster"]["version"] == "1.33"
        update: Any = eks.associate_identity_provider_config(clusterName="old", oidc=oidc_request())
        sim.advance(599)
        assert (
            eks.describe_update(name="old", updateId=update["update"]["id"])["update"]["status"]
            == "InProgress"
        )
        sim.advance(1)
        assert (
            eks.describe_update(name="old", updateId=update["update"]["id"])["update"]["status"]
            == "Successful"
        )


def test_throttle_rate_flag() -> None:
    with running_simulator(clusters=["c"], throttle_rate=1.0) as sim:
        eks = sim.boto3_client(max_attempts=1)
        with pytest.raises(eks.exceptions.ThrottlingException):
            eks.describe_cluster(name="c")


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state" / "eks.json"
    options: dict[str, Any] = {"state_file": state_file, "manual_clock": True}
    with running_simulator(clusters=["c"], associate_seconds=100, **options) as sim:
        eks = sim.boto3_client()
        arn = eks.describe_cluster(name="c")["cluster"]["arn"]
        eks.tag_resource(resourceArn=arn, tags={"kept": "yes"})
        update = eks.associate_identity_provider_config(
            clusterName="c", oidc=oidc_request(), clientRequestToken="tok"
        )["update"]
        sim.advance(40)
        before = sim.now()
        assert sim.stop() == 0
    assert state_file.exists()
    assert not list(state_file.parent.glob("*.tmp")), "no temporary file left behind"

    with running_simulator(**options) as sim:
        eks = sim.boto3_client()
        assert sim.now() == pytest.approx(before)
        assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"kept": "yes"}
        assert eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == (
            "InProgress"
        )
        replay = eks.associate_identity_provider_config(
            clusterName="c", oidc=oidc_request(), clientRequestToken="tok"
        )
        assert replay["update"]["id"] == update["id"]
        sim.advance(60)  # the saved deadline (and the saved 100 s timing) still apply
        assert eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == (
            "Successful"
        )


def test_planned_disassociation_failures_survive_a_restart(tmp_path: Path) -> None:
    options: dict[str, Any] = {"state_file": tmp_path / "eks.json", "manual_clock": True}
    ref: Any = {"type": "oidc", "name": "idp"}
    with running_simulator(clusters=["c"], **options) as sim:
        eks = sim.boto3_client()
        eks.associate_identity_provider_config(clusterName="c", oidc=oidc_request())
        sim.advance(2)
        sim.faults({"kind": "fail-disassociation", "errorCode": "AccessDenied", "count": 2})
        first = eks.disassociate_identity_provider_config(
            clusterName="c", identityProviderConfig=ref
        )["update"]
        assert sim.stop() == 0

    with running_simulator(**options) as sim:
        eks = sim.boto3_client()
        # One failure is still planned; the other was saved with the update that took it.
        assert [f["remaining"] for f in sim.active_faults()["failDisassociations"]] == [1]
        sim.advance(2)
        second = eks.disassociate_identity_provider_config(
            clusterName="c", identityProviderConfig=ref
        )["update"]
        sim.advance(2)
        for update_id in (first["id"], second["id"]):
            failed = eks.describe_update(name="c", updateId=update_id)["update"]
            assert (failed["status"], failed["errors"][0]["errorCode"]) == (
                "Failed",
                "AccessDenied",
            )
        assert sim.active_faults()["failDisassociations"] == []
        described = eks.describe_identity_provider_config(
            clusterName="c", identityProviderConfig=ref
        )
        assert described["identityProviderConfig"]["oidc"]["status"] == "ACTIVE"


def test_sigterm_stops_cleanly_and_saves(tmp_path: Path) -> None:
    state_file = tmp_path / "eks.json"
    with running_simulator(state_file=state_file) as sim:
        sim.create_cluster("c")
        state_file.unlink()
        assert sim.stop(signal.SIGTERM) == 0
    assert '"name":"c"' in state_file.read_text()


def test_a_corrupt_state_file_is_reported(tmp_path: Path) -> None:
    state_file = tmp_path / "eks.json"
    state_file.write_text("{not json")
    result = subprocess.run(
        simulator_argv(state_file=str(state_file)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "eks-simulator:" in result.stderr


def test_the_simulator_imports_nothing_from_the_operator() -> None:
    modules = "app clock config entities errors faults pagination persistence protocol rules"
    modules += " service state stats tagging __main__"
    imports = "; ".join(f"import eks_simulator.{name}" for name in modules.split())
    check = "import sys; print([m for m in sys.modules if m.startswith('eks_oidc_operator')])"
    result = subprocess.run(
        [sys.executable, "-c", f"{imports}; {check}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"
