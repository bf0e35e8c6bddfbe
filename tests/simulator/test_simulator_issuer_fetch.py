"""``fetchIssuers``: the simulator fetches each associated issuer, as EKS does, through boto3.

Real HTTPS issuers on loopback with a CA of their own (``eks_oidc_testing.issuer``) answer
in every way an issuer can fail. The shared simulator is switched on at runtime
(``POST /_sim/config``); the command-line flags get a process of their own.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from eks_oidc_testing.issuer import LocalIssuers, local_issuers
from eks_oidc_testing.simulator import (
    SimulatorError,
    SimulatorHandle,
    oidc_request,
    running_simulator,
    simulator_argv,
)
from eks_simulator.config import ConfigPatch, SimConfig
from eks_simulator.state import ASSOCIATE, EksState, NewCluster, PlannedFailure

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_eks.type_defs import UpdateTypeDef

REF: Any = {"type": "oidc", "name": "idp"}
MESSAGE = "Unable to fetch the OpenID configuration of the issuer {url} ("

UNUSABLE = [
    pytest.param("mismatch", "discovery document names issuer 'https://", id="mismatch"),
    pytest.param("nokeys", "/nokeys/keys has no keys", id="nokeys"),
    pytest.param("broken", "discovery document: HTTP 500", id="broken"),
    pytest.param("untrusted", "TLS: certificate verify failed", id="untrusted"),
    pytest.param("dead", "cannot connect to 127.0.0.1:", id="dead"),
]


@pytest.fixture(scope="module")
def issuers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIssuers]:
    with local_issuers(tmp_path_factory.mktemp("issuers")) as served:
        yield served


@pytest.fixture
def fetching(sim: SimulatorHandle, issuers: LocalIssuers) -> SimulatorHandle:
    """The shared simulator with issuer fetches on, trusting the issuers' CA."""
    sim.configure(fetchIssuers=True, issuerCaFile=str(issuers.ca_file), failedConfigGcSeconds=60)
    return sim


def issuer_url(issuers: LocalIssuers, variant: str) -> str:
    if variant == "untrusted":
        return issuers.untrusted
    if variant == "dead":
        return issuers.dead
    return issuers.url(variant)


def associate(sim: SimulatorHandle, eks: EKSClient, cluster: str, url: str) -> UpdateTypeDef:
    """Associate ``url`` on a new cluster and let the update reach its deadline."""
    sim.create_cluster(cluster)
    update = eks.associate_identity_provider_config(
        clusterName=cluster, oidc=oidc_request(issuer=url)
    )["update"]
    assert update["status"] == "InProgress"
    sim.advance(2)
    return eks.describe_update(name=cluster, updateId=update["id"])["update"]


def config_status(eks: EKSClient, cluster: str) -> str:
    config = eks.describe_identity_provider_config(clusterName=cluster, identityProviderConfig=REF)
    return config["identityProviderConfig"]["oidc"]["status"]


# ---------------------------------------------------------------- through boto3


def test_with_fetch_issuers_a_usable_issuer_associates_active(
    fetching: SimulatorHandle, eks: EKSClient, issuers: LocalIssuers
) -> None:
    done = associate(fetching, eks, "c", issuers.url("good"))
    assert done["status"] == "Successful"
    assert done["errors"] == []
    assert config_status(eks, "c") == "ACTIVE"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"


@pytest.mark.parametrize(("variant", "cause"), UNUSABLE)
def test_with_fetch_issuers_an_unusable_issuer_fails_the_association_with_eks_message(
    fetching: SimulatorHandle, eks: EKSClient, issuers: LocalIssuers, variant: str, cause: str
) -> None:
    url = issuer_url(issuers, variant)
    done = associate(fetching, eks, "c", url)
    assert done["status"] == "Failed"
    [error] = done["errors"]
    assert error["errorCode"] == "Unknown"
    assert error["resourceIds"] == ["idp"]
    assert error["errorMessage"].startswith(MESSAGE.format(url=url)), error["errorMessage"]
    assert cause in error["errorMessage"]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    # As any failed association: the config lingers, CREATING, until garbage-collected.
    assert config_status(eks, "c") == "CREATING"
    fetching.advance(60)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        config_status(eks, "c")


def test_without_fetch_issuers_nothing_is_fetched(
    sim: SimulatorHandle, eks: EKSClient, issuers: LocalIssuers
) -> None:
    # Off by default, and no CA bundle either: had the simulator fetched any of these (even
    # /good, whose CA it would not trust), the association would have failed.
    assert sim.call("GET", "/_sim/config")["fetchIssuers"] is False
    for variant in ("good", "mismatch", "nokeys", "broken", "untrusted", "dead"):
        done = associate(sim, eks, variant, issuer_url(issuers, variant))
        assert (variant, done["status"]) == (variant, "Successful")
        assert config_status(eks, variant) == "ACTIVE"


def test_fetch_issuers_can_be_switched_off_again(
    fetching: SimulatorHandle, eks: EKSClient, issuers: LocalIssuers
) -> None:
    fetching.configure(fetchIssuers=False, clearIssuerCaFile=True)
    config = fetching.call("GET", "/_sim/config")
    assert (config["fetchIssuers"], config["issuerCaFile"]) == (False, None)
    assert associate(fetching, eks, "c", issuers.url("broken"))["status"] == "Successful"


def test_a_planned_failure_wins_over_a_usable_issuer(
    fetching: SimulatorHandle, eks: EKSClient, issuers: LocalIssuers
) -> None:
    fetching.faults({"kind": "fail-association", "errorMessage": "planned"})
    done = associate(fetching, eks, "c", issuers.url("good"))
    assert [e["errorMessage"] for e in done["errors"]] == ["planned"]


def test_an_unreadable_issuer_ca_file_is_refused(sim: SimulatorHandle, tmp_path: Path) -> None:
    with pytest.raises(SimulatorError, match="issuer CA file"):
        sim.configure(issuerCaFile=str(tmp_path / "missing.pem"))
    assert sim.call("GET", "/_sim/config")["issuerCaFile"] is None


def test_the_command_line_flags_turn_fetching_on(issuers: LocalIssuers) -> None:
    with running_simulator(
        manual_clock=True, fetch_issuers=True, issuer_ca_file=str(issuers.ca_file)
    ) as own:
        eks = own.boto3_client()
        config = own.call("GET", "/_sim/config")
        assert (config["fetchIssuers"], config["issuerCaFile"]) == (True, str(issuers.ca_file))
        assert associate(own, eks, "good", issuers.url("good"))["status"] == "Successful"
        failed = associate(own, eks, "bad", issuers.url("mismatch"))
        assert failed["status"] == "Failed"
        message = failed["errors"][0]["errorMessage"]
        assert message.startswith(MESSAGE.format(url=issuers.url("mismatch")))


def test_an_unreadable_issuer_ca_file_stops_the_start(tmp_path: Path) -> None:
    argv = simulator_argv(fetch_issuers=True, issuer_ca_file=str(tmp_path / "missing.pem"))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "issuer CA file" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------- the state machine alone

OIDC = {"identityProviderConfigName": "i", "issuerUrl": "https://i.example", "clientId": "k"}


def fetching_state() -> EksState:
    patch = ConfigPatch.model_validate({"associateSeconds": 10, "fetchIssuers": True})
    state = EksState(patch.apply(SimConfig()))
    state.new_cluster(NewCluster("c"), now=0)
    return state


def associate_in(state: EksState, now: float = 0, **extra: Any) -> str:
    response = state.execute(ASSOCIATE, {"clusterName": "c", "oidc": OIDC, **extra}, now)
    update_id: str = response["update"]["id"]
    return update_id


def test_an_update_past_its_deadline_waits_for_its_issuer_and_ends_when_it_answers() -> None:
    state = fetching_state()
    update_id = associate_in(state)
    [check] = state.take_issuer_checks()
    assert (check.update_id, check.issuer_url, check.config_name) == (
        update_id,
        "https://i.example",
        "i",
    )
    state.tick(30)
    cluster = state.clusters["c"]
    assert (cluster.updates[update_id].status, cluster.status) == ("InProgress", "UPDATING")
    state.resolve_issuer_check(check, "HTTP 404", 31)
    update = cluster.updates[update_id]
    assert (update.status, cluster.status) == ("Failed", "ACTIVE")
    assert [e.error_message for e in update.errors] == [
        "Unable to fetch the OpenID configuration of the issuer https://i.example (HTTP 404)"
    ]
    # Garbage collection counts from when the update ended, not from its deadline.
    gc_at = cluster.configs["i"].gc_at
    assert gc_at is not None
    assert gc_at > 31


def test_an_issuer_answering_before_the_deadline_leaves_the_update_to_its_deadline() -> None:
    state = fetching_state()
    update_id = associate_in(state)
    [check] = state.take_issuer_checks()
    state.resolve_issuer_check(check, None, 1)
    assert state.clusters["c"].updates[update_id].status == "InProgress"
    state.tick(10)
    assert state.clusters["c"].updates[update_id].status == "Successful"


def test_no_issuer_check_for_a_replay_a_planned_failure_or_with_the_setting_off() -> None:
    state = fetching_state()
    associate_in(state, clientRequestToken="t")
    assert len(state.take_issuer_checks()) == 1
    associate_in(state, clientRequestToken="t")
    assert state.take_issuer_checks() == []
    state.tick(10)
    state.remove_cluster("c")
    state.new_cluster(NewCluster("c"), now=10)
    state.plan_failure(PlannedFailure())
    associate_in(state, now=10)
    assert state.take_issuer_checks() == []
    state.config = ConfigPatch(fetch_issuers=False).apply(state.config)
    state.remove_cluster("c")
    state.new_cluster(NewCluster("c"), now=20)
    associate_in(state, now=20)
    assert state.take_issuer_checks() == []


def test_an_answer_for_a_cluster_reset_meanwhile_is_ignored() -> None:
    state = fetching_state()
    associate_in(state)
    [check] = state.take_issuer_checks()
    state.reset()
    state.new_cluster(NewCluster("c"), now=0)
    state.resolve_issuer_check(check, "late", 20)
    assert state.clusters["c"].updates == {}
