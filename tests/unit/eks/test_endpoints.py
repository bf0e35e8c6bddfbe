"""LeanLoader: the endpoint data cut to EKS and STS resolves what stock botocore resolves.

Clients are built (never called) from a stock boto3 session and from a lean one, and their
endpoints compared across partitions, regions and endpoint variants. No network.
"""

from __future__ import annotations

import gc
import tracemalloc

import boto3
import pytest
from botocore.config import Config

from eks_oidc_operator.eks.endpoints import SERVICES, LeanLoader, lean_loader, lean_session, pruned
from eks_oidc_operator.eks.factory import EksClientFactory

# One region or more of each partition botocore ships that EKS and STS are in.
REGIONS = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-2",
    "me-central-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
]
VARIANTS = {
    "plain": Config(),
    "fips": Config(use_fips_endpoint=True),
    "dualstack": Config(use_dualstack_endpoint=True),
}


@pytest.fixture(autouse=True)
def _no_endpoint_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    # The endpoints under test are botocore's own, not the simulator's.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EKS", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")


def _endpoint(session: boto3.session.Session, service: str, region: str, config: Config) -> str:
    try:
        client = session.client(service, region_name=region, config=config)  # type: ignore[call-overload]
    except Exception as error:  # the failure itself is what is compared
        return f"error: {type(error).__name__}"
    return str(client.meta.endpoint_url)


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_lean_clients_resolve_the_same_endpoints_as_stock_botocore(
    service: str, variant: str
) -> None:
    stock, lean = boto3.session.Session(), lean_session()
    config = VARIANTS[variant]
    stocks = {r: _endpoint(stock, service, r, config) for r in REGIONS}
    leans = {r: _endpoint(lean, service, r, config) for r in REGIONS}
    assert leans == stocks
    # Not vacuous: most of these are real endpoints, in several partitions.
    assert sum(url.startswith("https://") for url in stocks.values()) >= len(REGIONS) - 2
    assert any(url.endswith(".com.cn") for url in stocks.values())


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_lean_sessions_know_the_same_partitions_and_regions(service: str) -> None:
    stock, lean = boto3.session.Session(), lean_session()
    assert lean.get_available_partitions() == stock.get_available_partitions()
    for partition in stock.get_available_partitions():
        assert lean.get_available_regions(service, partition) == stock.get_available_regions(
            service, partition
        )
    assert lean.get_available_regions(service)  # not both empty


def test_other_services_are_left_out() -> None:
    stock, lean = boto3.session.Session(), lean_session()
    assert stock.get_available_regions("s3")
    assert lean.get_available_regions("s3") == []


def test_pruning_keeps_each_partition_whole_but_its_services() -> None:
    data, _ = LeanLoader().load_data_with_path("partitions")  # any file loads as usual
    assert "partitions" in data
    full, _ = boto3.session.Session()._loader.load_data_with_path("endpoints")
    cut = pruned(full)
    assert [p["partition"] for p in cut["partitions"]] == [
        p["partition"] for p in full["partitions"]
    ]
    for before, after in zip(full["partitions"], cut["partitions"], strict=True):
        assert {k: v for k, v in after.items() if k != "services"} == {
            k: v for k, v in before.items() if k != "services"
        }
        assert set(after["services"]) == SERVICES & set(before["services"])
    # The input is not changed.
    assert len(full["partitions"][0]["services"]) > 100


def test_the_real_file_path_is_reported_so_botocore_treats_the_data_as_built_in() -> None:
    loader = lean_loader()
    _, path = loader.load_data_with_path("endpoints")
    assert loader.is_builtin_path(path)


def test_one_loader_prunes_once_for_every_session() -> None:
    loader = lean_loader()
    first = lean_session(loader).client("eks", region_name="us-west-2")
    second = lean_session(loader).client("eks", region_name="eu-west-1")
    assert first.meta.endpoint_url == "https://eks.us-west-2.amazonaws.com"
    assert second.meta.endpoint_url == "https://eks.eu-west-1.amazonaws.com"
    assert loader.load_data_with_path("endpoints") is loader.load_data_with_path("endpoints")


def test_the_factory_base_session_is_lean() -> None:
    client = EksClientFactory().get("us-west-2", None)
    assert client.boto_client.meta.endpoint_url == "https://eks.us-west-2.amazonaws.com"


def _kept_bytes(make: type[boto3.session.Session] | object) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        session = make()  # type: ignore[operator]
        client = session.client("eks", region_name="us-west-2")
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
        del client, session
    finally:
        tracemalloc.stop()
    return kept


def test_a_lean_session_keeps_megabytes_less_than_a_stock_one() -> None:
    # The point of the loader. Stock keeps every service's endpoints (about 6.7 MiB with
    # botocore 1.44); both keep the EKS model. Half of that saving is asked for.
    stock, lean = _kept_bytes(boto3.session.Session), _kept_bytes(lean_session)
    assert stock - lean > 3 * 1024 * 1024, (stock, lean)
