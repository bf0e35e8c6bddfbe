"""The simulator's per-account request rate: a token bucket per account (an assumption about
EKS, whose rate is unpublished), so benchmarks can show an operator never makes EKS throttle it."""

from __future__ import annotations

import time

import pytest

from eks_oidc_testing.simulator import SimulatorHandle
from eks_simulator.throttle import AccountRate, AccountThrottle, account_of, parse_account_rate

OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/fleet"


def test_a_bucket_admits_its_burst_then_its_rate() -> None:
    now = [0.0]
    bucket = AccountThrottle(clock=lambda: now[0])
    rate = AccountRate(per_second=2, burst=3)
    assert [bucket.admit("a", rate) for _ in range(4)] == [True, True, True, False]
    assert bucket.admit("b", rate)  # another account has its own bucket
    now[0] = 0.5  # one token back
    assert [bucket.admit("a", rate) for _ in range(2)] == [True, False]
    now[0] = 100.0  # refilled, never beyond the burst
    assert [bucket.admit("a", rate) for _ in range(4)] == [True, True, True, False]
    assert bucket.admit("a", None)  # no rate: no limit


def test_the_rate_flag_and_the_charged_account() -> None:
    assert parse_account_rate("20/100") == AccountRate(per_second=20, burst=100)
    assert parse_account_rate("5") == AccountRate(per_second=5, burst=5)
    with pytest.raises(ValueError, match="greater than 0"):
        parse_account_rate("0/10")
    assert account_of(OTHER_ACCOUNT_ROLE, "123456789012") == "210987654321"
    assert account_of(None, "123456789012") == "123456789012"


def test_calls_beyond_an_accounts_bucket_are_throttled_per_account(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    sim.configure(accountRate={"perSecond": 0.5, "burst": 3})
    eks = sim.boto3_client(max_attempts=1)
    for _ in range(3):
        eks.describe_cluster(name="c")
    with pytest.raises(eks.exceptions.ThrottlingException, match="Rate exceeded"):
        eks.list_clusters()
    # A role of another account has its own bucket, full.
    issued = sim.sts_client().assume_role(RoleArn=OTHER_ACCOUNT_ROLE, RoleSessionName="bench")
    as_role = sim.boto3_client(max_attempts=1, credentials=issued["Credentials"])
    as_role.describe_cluster(name="c")
    assert sim.stats()["operations"]["ListClusters"] == {"429": 1}
    # botocore's own retries wait out the refill (2 s for a token at 0.5/s).
    started = time.monotonic()
    sim.boto3_client(max_attempts=5).describe_cluster(name="c")
    assert time.monotonic() - started > 0.3
    sim.configure(clearAccountRate=True)
    for _ in range(5):
        eks.describe_cluster(name="c")


def test_each_region_of_an_account_has_its_own_bucket(sim: SimulatorHandle) -> None:
    sim.create_cluster("c")
    sim.configure(accountRate={"perSecond": 0.1, "burst": 1})
    west = sim.boto3_client(max_attempts=1)
    west.describe_cluster(name="c")
    with pytest.raises(west.exceptions.ThrottlingException):
        west.describe_cluster(name="c")
    sim.boto3_client("eu-west-1", max_attempts=1).describe_cluster(name="c")
