"""boto3 paginators over every list operation, and 100 parallel associations."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from eks_oidc_testing.simulator import SimulatorHandle, oidc_request

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient


def test_list_clusters_paginator_walks_every_page(sim: SimulatorHandle, eks: EKSClient) -> None:
    names = [f"cluster-{i:03d}" for i in range(23)]
    for name in reversed(names):
        sim.create_cluster(name)
    pages = list(eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["clusters"]) for p in pages] == [5, 5, 5, 5, 3]
    assert [n for p in pages for n in p["clusters"]] == names
    assert "nextToken" not in pages[-1]
    assert sim.count("ListClusters", 200) == 5


def test_a_page_boundary_survives_a_deletion_between_pages(
    sim: SimulatorHandle, eks: EKSClient
) -> None:
    for name in ("a", "b", "c", "d"):
        sim.create_cluster(name)
    first = eks.list_clusters(maxResults=2)
    sim.delete_cluster("a")
    second = eks.list_clusters(maxResults=2, nextToken=first["nextToken"])
    assert first["clusters"] + second["clusters"] == ["a", "b", "c", "d"]


def test_list_updates_and_configs_paginators(sim: SimulatorHandle, eks: EKSClient) -> None:
    sim.create_cluster("c", "1.32")
    ids = []
    for i in range(7):
        ids.append(
            eks.associate_identity_provider_config(
                clusterName="c", oidc=oidc_request(f"p{i}", f"https://p{i}.example.com")
            )["update"]["id"]
        )
        sim.advance(2)
    updates = eks.get_paginator("list_updates").paginate(name="c", PaginationConfig={"PageSize": 3})
    assert [u for page in updates for u in page["updateIds"]] == ids  # oldest first
    configs = eks.get_paginator("list_identity_provider_configs").paginate(
        clusterName="c", PaginationConfig={"PageSize": 2}
    )
    listed = [c["name"] for page in configs for c in page["identityProviderConfigs"]]
    assert listed == [f"p{i}" for i in range(7)]


def test_paginator_max_items_and_resume(sim: SimulatorHandle, eks: EKSClient) -> None:
    for i in range(10):
        sim.create_cluster(f"c{i}")
    paginator = eks.get_paginator("list_clusters")
    first = paginator.paginate(PaginationConfig={"PageSize": 4, "MaxItems": 6}).build_full_result()
    assert first["clusters"] == [f"c{i}" for i in range(6)]
    rest = paginator.paginate(
        PaginationConfig={"PageSize": 4, "StartingToken": first["NextToken"]}
    ).build_full_result()
    assert rest["clusters"] == [f"c{i}" for i in range(6, 10)]


def test_100_parallel_associations_on_100_clusters(sim: SimulatorHandle) -> None:
    clusters = [f"par-{i:03d}" for i in range(100)]
    for name in clusters:
        sim.create_cluster(name)
    # One client per thread, made up front; a retry would hide a lost request.
    clients = {name: sim.boto3_client(max_attempts=1) for name in clusters}
    start = threading.Barrier(len(clusters))

    def associate(name: str) -> tuple[str, str]:
        start.wait()  # all 100 requests are released at the same moment
        update: Any = clients[name].associate_identity_provider_config(
            clusterName=name, oidc=oidc_request(f"idp-{name}", f"https://{name}.example.com")
        )["update"]
        return name, update["id"]

    with ThreadPoolExecutor(max_workers=len(clusters)) as pool:
        results = dict(pool.map(associate, clusters))

    assert len(results) == 100
    assert len(set(results.values())) == 100, "every update id is distinct"
    assert sim.stats()["operations"]["AssociateIdentityProviderConfig"] == {"200": 100}
    eks = sim.boto3_client()
    for name in clusters:  # exactly one update per cluster, none lost, none doubled
        assert eks.list_updates(name=name)["updateIds"] == [results[name]]
        assert eks.describe_cluster(name=name)["cluster"]["status"] == "UPDATING"
    sim.advance(2)
    for name in clusters:
        update = eks.describe_update(name=name, updateId=results[name])["update"]
        assert update["status"] == "Successful"
        assert eks.describe_cluster(name=name)["cluster"]["status"] == "ACTIVE"
        config = eks.describe_identity_provider_config(
            clusterName=name, identityProviderConfig={"type": "oidc", "name": f"idp-{name}"}
        )["identityProviderConfig"]["oidc"]
        assert config["status"] == "ACTIVE"
