"""Two releases side by side: each named after its release, each watching its own namespace.

Both are installed at once from the registry (their pre-install hooks both apply the one CRD,
which neither owns), each reconciles only the objects of the namespace it watches, each holds a
Lease of its own, and deleting an object is handled by its own release. Runs after
test_pods.py, whose last test uninstalls the tier's main release (it watches every namespace);
it makes sure of that first, so it also runs alone.
"""

from __future__ import annotations

import concurrent.futures
from functools import partial

import pytest

from eks_oidc_operator import constants
from eks_oidc_testing.kube import unique_name
from eks_oidc_testing.simulator import SimulatorClient
from tests.support.idp_objects import with_condition
from tests.support.kind_release import AWS_CREDENTIALS, NAMESPACE, RELEASE, Release, idp, values
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kind, pytest.mark.pods]


def test_two_releases_side_by_side_each_serve_their_own_namespace(
    release: Release, in_cluster_simulator: SimulatorClient
) -> None:
    cluster = release.cluster
    release.helm_run("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout=120s")
    teams = {}
    for team in ("team-a", "team-b"):
        home, tenant = unique_name(f"{team}-ops"), unique_name(f"{team}-apps")
        for namespace in (home, tenant):
            cluster.kubectl("create", "namespace", namespace)
        cluster.kubectl("label", "namespace", home, "pod-security.kubernetes.io/enforce=restricted")
        teams[team] = (home, tenant)

    def install(team: str) -> None:
        home, tenant = teams[team]
        chart_values = values(
            replicaCount=1,
            operator={
                "allNamespaces": False,
                "watchNamespaces": [tenant],
                "extraEnv": AWS_CREDENTIALS,
            },
            env=[],
            tenancy={"rules": [{"name": team, "namespaces": [tenant], "operatorIdentity": True}]},
        )
        release.install_or_upgrade("install", chart_values, name=team, namespace=home)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(install, teams))  # re-raises the first failure

    objects = {}
    for team, (_, tenant) in teams.items():
        name, eks_cluster = unique_name("idp"), unique_name("c")
        in_cluster_simulator.create_cluster(eks_cluster, "1.33")
        assert cluster.apply(idp(name, tenant, eks_cluster)).returncode == 0
        objects[team] = (name, eks_cluster)
    for team, (name, _) in objects.items():
        eventually(
            f"{name} Ready under {team}",
            partial(with_condition, cluster, teams[team][1], name, "Ready"),
            hint=partial(_logs, release, teams),
        )

    for team, (home, _) in teams.items():
        other = next(t for t in teams if t != team)
        # Names carry the release: its own Lease, held by its own pod; its own cluster roles.
        lease = cluster.get_json("lease", f"{team}-eks-oidc-operator", "-n", home)
        assert lease["spec"]["holderIdentity"].startswith(f"{team}-eks-oidc-operator-")
        cluster.get_json("clusterrole", f"{team}-eks-oidc-operator-crd-reader")
        # Each reconciled its own namespace's object and never named the other's.
        log = _logs(release, {team: teams[team]})
        assert objects[team][0] in log
        assert objects[other][0] not in log

    # A deletion is handled by the release that watches it, and touches nothing of the other.
    (name_a, cluster_a), (name_b, cluster_b) = objects["team-a"], objects["team-b"]
    cluster.kubectl("delete", f"oidcidp/{name_a}", "-n", teams["team-a"][1], "--timeout=120s")
    listed = in_cluster_simulator.boto3_client().list_identity_provider_configs
    assert listed(clusterName=cluster_a)["identityProviderConfigs"] == []
    assert [c["name"] for c in listed(clusterName=cluster_b)["identityProviderConfigs"]] == [name_b]

    cluster.kubectl("delete", f"oidcidp/{name_b}", "-n", teams["team-b"][1], "--timeout=120s")
    for team, (home, _) in teams.items():
        result = release.helm_run("uninstall", team, "-n", home, "--wait", "--timeout=120s")
        assert result.returncode == 0, result.stderr
    cluster.get_json("crd", constants.CRD_NAME)  # shared, and neither release took it away


def _logs(release: Release, teams: dict[str, tuple[str, str]]) -> str:
    return "\n".join(
        release.cluster.kubectl(
            "logs",
            "-n",
            home,
            "-l",
            f"app.kubernetes.io/instance={team}",
            "--tail=200",
            check=False,
        ).stdout
        for team, (home, _) in teams.items()
    )
