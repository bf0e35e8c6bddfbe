"""The simulated EKS control plane: resources, the 13 operations, and the lifecycle.

Pure domain code: no HTTP, no asyncio, no files. Each operation takes the request
parameters (EKS member names, already shape-validated by ``protocol.py``) and the current
simulated time, and returns the response members or raises :class:`EksError`.

Lifecycle progress is *lazy*: every deadline is stored on its entity and queued in a heap,
and :meth:`EksState.tick` applies all transitions that are due at a given time, each at its
own deadline. Callers tick before every request, so a clock advance of N seconds is exact
and no background task ever sleeps. Transitions are applied atomically: when an update
finishes, the update, the config and the cluster change in one step (docs/eks-behaviour.md §3.1).

Check order in Associate and Disassociate follows docs/eks-behaviour.md §2.4 and §2.5.

With ``fetch_issuers`` on, an accepted association also waits for its issuer to be fetched
(by the service, asynchronously: this module does no I/O). The state queues an
:class:`IssuerCheck`, and the update cannot finish until :meth:`EksState.resolve_issuer_check`
hands in the outcome, which becomes the update's planned failure when the issuer is unusable.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from eks_simulator import rules, tagging
from eks_simulator.config import SimConfig, TimingKey
from eks_simulator.entities import (
    Cluster,
    ClusterStatus,
    ErrorDetail,
    IdpConfig,
    Update,
    UpdateType,
)
from eks_simulator.errors import EksError, invalid_parameter, invalid_request, not_found_cluster
from eks_simulator.pagination import paginate

_UPDATE_ID_NAMESPACE = uuid.UUID("6f1e3c1e-8a55-4c3e-9f59-0e5b8b7f2a10")
"""Namespace for name-based update ids: ``uuid3(ns, cluster:operation:token)``. Real EKS
update ids are often version-3 UUIDs (docs/eks-behaviour.md §3.4), and a deterministic id
makes replay exact."""

ASSOCIATE: Final = "AssociateIdentityProviderConfig"
DISASSOCIATE: Final = "DisassociateIdentityProviderConfig"
OIDC = "oidc"

ISSUER_UNUSABLE_CODE: Final = "Unknown"
"""``errorCode`` of an association failed by its issuer. Which code EKS reports is unknown
(docs/eks-behaviour.md §3.7); ``Unknown`` is the model's catch-all and what faults default to."""

EventKind = Literal["cluster-ready", "cluster-gone", "update-done", "config-gc"]
Handler = Callable[[dict[str, Any], float], dict[str, Any]]


class PlannedFailure(BaseModel):
    """A fault: the next matching association(s) or disassociation(s) end ``Failed``."""

    operation: UpdateType = ASSOCIATE
    """Which calls it fails. The default keeps state files written before disassociations
    could be failed meaning what they meant."""
    cluster: str | None = None
    """Only calls on this cluster; ``None`` means any cluster."""
    error_code: str = "Unknown"
    error_message: str = "The identity provider could not be reached"
    remaining: int = Field(default=1, ge=1)


class StateSnapshot(BaseModel):
    """Everything in :class:`EksState` that must survive a restart."""

    clusters: list[Cluster]
    pending_failures: list[PlannedFailure] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NewCluster:
    """What a new cluster is made from (CreateCluster, the control API, ``--clusters``)."""

    name: str
    version: str | None = None
    """Kubernetes version; ``None`` means the configured default."""
    status: ClusterStatus = "ACTIVE"
    """``CREATING`` schedules the move to ``ACTIVE``."""
    role_arn: str | None = None
    vpc: dict[str, Any] | None = None
    """``resourcesVpcConfig`` as requested."""
    tags: dict[str, str] | None = None
    token: str | None = None
    """The ``clientRequestToken`` of the CreateCluster call, if any."""


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """An accepted Associate or Disassociate, about to become an ``InProgress`` update."""

    operation: Literal["AssociateIdentityProviderConfig", "DisassociateIdentityProviderConfig"]
    config_name: str
    params_value: str
    """``params[0].value`` of the update (a JSON string)."""
    token: str | None
    failure: ErrorDetail | None = None
    """A planned failure: the update ends ``Failed`` with it."""
    response_tags: dict[str, str] | None = None
    """The ``tags`` of an Associate response, kept for replay."""


@dataclass(frozen=True, slots=True)
class IssuerCheck:
    """An accepted association whose issuer must be fetched before the update may end."""

    cluster: str
    cluster_uid: str
    """Guards against a cluster deleted and re-created while the fetch ran."""
    update_id: str
    config_name: str
    issuer_url: str


def issuer_unusable_message(issuer_url: str, cause: str) -> str:
    """The ``errorMessage`` of an association whose issuer could not be fetched.

    The words before the cause are EKS's as reported (docs/eks-behaviour.md §3.7); the cause
    in parentheses is the simulator's, so a test can tell the failures apart.
    """
    return f"Unable to fetch the OpenID configuration of the issuer {issuer_url} ({cause})"


def _busy_message(action: str, cluster: str, update_id: str) -> str:
    return f"Cannot {action} because cluster {cluster} currently has update {update_id} in progress"


class EksState:
    """All simulated EKS resources of one account and region.

    Parameters
    ----------
    config
        Durations and limits; replaced wholesale by :attr:`config` assignment at runtime.
    seed
        Seed for the random generator behind ids and jittered durations.
    """

    def __init__(self, config: SimConfig, *, seed: int | None = None) -> None:
        self.config = config
        self.clusters: dict[str, Cluster] = {}
        self.pending_failures: list[PlannedFailure] = []
        # Not for security: ids and jitter only need to look random (and be reproducible).
        self._rng = random.Random(seed)  # noqa: S311
        self._events: list[tuple[float, int, EventKind, str, str, str]] = []
        self._seq = itertools.count()
        # Issuer fetches in flight, by update id -> whether the update's deadline has passed
        # meanwhile. Not saved: a restart forgets the fetch, and its update then ends as if
        # the issuer had answered (the window is a few seconds at most).
        self._awaiting_issuer: dict[str, bool] = {}
        self._new_issuer_checks: list[IssuerCheck] = []
        self.handlers: dict[str, Handler] = {
            "CreateCluster": self.create_cluster,
            "DescribeCluster": self.describe_cluster,
            "ListClusters": self.list_clusters,
            "DeleteCluster": self.delete_cluster,
            ASSOCIATE: self.associate,
            DISASSOCIATE: self.disassociate,
            "DescribeIdentityProviderConfig": self.describe_config,
            "ListIdentityProviderConfigs": self.list_configs,
            "DescribeUpdate": self.describe_update,
            "ListUpdates": self.list_updates,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags,
        }

    # ------------------------------------------------------------------ dispatch

    def execute(self, operation: str, params: dict[str, Any], now: float) -> dict[str, Any]:
        """Run one EKS operation at time ``now`` (after applying due transitions)."""
        self.tick(now)
        return self.handlers[operation](params, now)

    # ------------------------------------------------------------------ lifecycle

    def tick(self, now: float) -> None:
        """Apply, in deadline order, every transition due at or before ``now``."""
        events = self._events
        while events and events[0][0] <= now:
            due, _, kind, name, uid, key = heapq.heappop(events)
            cluster = self.clusters.get(name)
            if cluster is None or cluster.uid != uid:
                continue  # the cluster was deleted (or replaced) since this was scheduled
            self._apply(kind, cluster, key, due)

    def _schedule(self, due: float, kind: EventKind, cluster: Cluster, key: str = "") -> None:
        heapq.heappush(self._events, (due, next(self._seq), kind, cluster.name, cluster.uid, key))

    def _apply(self, kind: EventKind, cluster: Cluster, key: str, due: float) -> None:
        if kind == "cluster-ready" and cluster.status == "CREATING":
            cluster.status = "ACTIVE"
            cluster.transition_at = None
        elif kind == "cluster-gone" and cluster.status == "DELETING":
            del self.clusters[cluster.name]
        elif kind == "update-done":
            self._finish_update(cluster, key, due)
        elif kind == "config-gc":
            config = cluster.configs.get(key)
            if config is not None and config.gc_at is not None and config.gc_at <= due:
                del cluster.configs[key]

    def _finish_update(self, cluster: Cluster, update_id: str, due: float) -> None:
        update = cluster.updates.get(update_id)
        if update is None or update.status != "InProgress":
            return
        if update_id in self._awaiting_issuer:
            # How it ends depends on the issuer's answer, not in yet: it ends when it comes.
            self._awaiting_issuer[update_id] = True
            return
        config = cluster.configs.get(update.config_name)
        if update.planned_failure is not None:
            update.status = "Failed"
            update.errors = [update.planned_failure]
            if config is not None:
                self._after_failure(cluster, update, config, due)
        elif update.type == ASSOCIATE:
            update.status = "Successful"
            if config is not None:
                config.status = "ACTIVE"
        else:
            update.status = "Successful"
            cluster.configs.pop(update.config_name, None)
        if cluster.active_update_id == update_id:
            cluster.active_update_id = None
        if cluster.status == "UPDATING":
            cluster.status = "ACTIVE"

    def _after_failure(
        self, cluster: Cluster, update: Update, config: IdpConfig, due: float
    ) -> None:
        """What a failed update leaves of its config."""
        if update.type == DISASSOCIATE:
            # Nothing was removed, so the config is still associated and usable; a later
            # Disassociate may try again (docs/simulator.md, choices for unknown behaviour).
            config.status = "ACTIVE"
            return
        # Failed association: the config lingers (still CREATING; the model has no FAILED
        # config status) until AWS garbage-collects it (docs/eks-behaviour.md §4.1).
        config.gc_at = due + self._duration(cluster.name, "failed_config_gc_seconds")
        self._schedule(config.gc_at, "config-gc", cluster, config.name)

    def _duration(self, cluster: str, key: TimingKey) -> float:
        return self.config.timings_for(cluster).get(key).sample(self._rng)

    def _busy_update(self, cluster: Cluster, now: float) -> str | None:
        """The id of the update blocking mutations, if any (real or phantom)."""
        if cluster.active_update_id is not None:
            return cluster.active_update_id
        if cluster.phantom_until is not None and now < cluster.phantom_until:
            return cluster.phantom_update_id
        return None

    def _hex(self, digits: int) -> str:
        return f"{self._rng.getrandbits(digits * 4):0{digits}x}"

    def _update_id(self, cluster: str, operation: str, token: str | None) -> str:
        if token:
            return str(uuid.uuid3(_UPDATE_ID_NAMESPACE, f"{cluster}:{operation}:{token}"))
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _arn(self, resource: str) -> str:
        c = self.config
        return f"arn:{c.partition}:eks:{c.region}:{c.account_id}:{resource}"

    def _cluster(self, name: str, *, trailing_period: bool = True) -> Cluster:
        cluster = self.clusters.get(name)
        if cluster is None:
            raise not_found_cluster(name, trailing_period=trailing_period)
        return cluster

    # ------------------------------------------------------------------ clusters

    def new_cluster(self, new: NewCluster, *, now: float) -> Cluster:
        """Create and register a cluster (also used by the control API and ``--clusters``)."""
        name, status = new.name, new.status
        if name in self.clusters:
            raise EksError(
                "ResourceInUseException",
                f"Cluster already exists with name: {name}",
                clusterName=name,
            )
        version = new.version or self.config.default_kubernetes_version
        rules.parse_version(version)
        region = self.config.region
        vpc = new.vpc or {}
        cluster = Cluster(
            uid=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            name=name,
            arn=self._arn(f"cluster/{name}"),
            created_at=now,
            version=version,
            role_arn=new.role_arn or f"arn:aws:iam::{self.config.account_id}:role/eks-cluster-role",
            status=status,
            issuer=f"https://oidc.eks.{region}.amazonaws.com/id/{self._hex(32).upper()}",
            endpoint=f"https://{self._hex(32).upper()}.gr7.{region}.eks.amazonaws.com",
            certificate_authority=self._hex(64),
            resources_vpc_config={
                "subnetIds": list(vpc.get("subnetIds") or ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]),
                "securityGroupIds": list(vpc.get("securityGroupIds") or []),
                "clusterSecurityGroupId": f"sg-{self._hex(17)}",
                "vpcId": f"vpc-{self._hex(17)}",
                "endpointPublicAccess": vpc.get("endpointPublicAccess", True),
                "endpointPrivateAccess": vpc.get("endpointPrivateAccess", False),
                "publicAccessCidrs": list(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"]),
            },
            tags=dict(new.tags or {}),
            client_request_token=new.token,
        )
        self.clusters[name] = cluster
        if status == "CREATING":
            cluster.transition_at = now + self._duration(name, "create_cluster_seconds")
            self._schedule(cluster.transition_at, "cluster-ready", cluster)
        return cluster

    def create_cluster(self, p: dict[str, Any], now: float) -> dict[str, Any]:
        """CreateCluster: a new cluster in CREATING; a repeated token returns the original."""
        name: str = p["name"]
        token: str | None = p.get("clientRequestToken")
        existing = self.clusters.get(name)
        if existing is not None and token and existing.client_request_token == token:
            return {"cluster": existing.to_wire()}
        if existing is None:
            rules.check_role_arn(p["roleArn"])
            rules.check_subnets(p["resourcesVpcConfig"].get("subnetIds"))
            rules.check_tags(p.get("tags") or {}, code="InvalidParameterException")
            if len(self.clusters) >= self.config.cluster_limit:
                raise EksError(
                    "ResourceLimitExceededException",
                    f"Cluster limit exceeded for account {self.config.account_id} in region "
                    f"{self.config.region}: the quota is {self.config.cluster_limit} clusters",
                    clusterName=name,
                )
        cluster = self.new_cluster(
            NewCluster(
                name,
                version=p.get("version"),
                status="CREATING",
                role_arn=p["roleArn"],
                vpc=p["resourcesVpcConfig"],
                tags=p.get("tags"),
                token=token,
            ),
            now=now,
        )
        return {"cluster": cluster.to_wire()}

    def describe_cluster(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """DescribeCluster."""
        return {"cluster": self._cluster(p["name"]).to_wire()}

    def list_clusters(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """ListClusters, sorted by name (``include`` must be lowercase ``all``)."""
        for value in p.get("include") or []:
            if value != "all":
                raise invalid_parameter(f"Invalid include value: {value}. Valid values: all")
        names, token = paginate(
            sorted(self.clusters), max_results=p.get("maxResults"), next_token=p.get("nextToken")
        )
        return {"clusters": names, "nextToken": token}

    def delete_cluster(self, p: dict[str, Any], now: float) -> dict[str, Any]:
        """DeleteCluster: DELETING, then gone. Blocked (409) while an update runs."""
        cluster = self._cluster(p["name"])
        if self._busy_update(cluster, now) is not None:
            raise EksError(
                "ResourceInUseException",
                f"Cannot delete because cluster {cluster.name} currently has an update in progress",
                clusterName=cluster.name,
            )
        if cluster.status != "DELETING":
            cluster.status = "DELETING"
            cluster.transition_at = now + self._duration(cluster.name, "delete_cluster_seconds")
            self._schedule(cluster.transition_at, "cluster-gone", cluster)
        return {"cluster": cluster.to_wire()}

    # ------------------------------------------------------------------ identity providers

    def _replay(self, cluster: Cluster, operation: str, token: str | None) -> Update | None:
        if not token:
            return None
        update_id = cluster.tokens.get(f"{operation}:{token}")
        return None if update_id is None else cluster.updates[update_id]

    def _start_update(self, cluster: Cluster, request: UpdateRequest, now: float) -> Update:
        operation, token = request.operation, request.token
        key: TimingKey = "associate_seconds" if operation == ASSOCIATE else "disassociate_seconds"
        update = Update(
            id=self._update_id(cluster.name, operation, token),
            type=operation,
            config_name=request.config_name,
            params_value=request.params_value,
            created_at=now,
            completes_at=now + self._duration(cluster.name, key),
            planned_failure=request.failure,
            response_tags=request.response_tags,
        )
        cluster.updates[update.id] = update
        cluster.active_update_id = update.id
        cluster.status = "UPDATING"
        if token:
            cluster.tokens[f"{operation}:{token}"] = update.id
        self._schedule(update.completes_at, "update-done", cluster, update.id)
        return update

    def _take_failure(
        self, operation: UpdateType, cluster: str, config_name: str
    ) -> ErrorDetail | None:
        for planned in self.pending_failures:
            if planned.operation == operation and planned.cluster in (None, cluster):
                planned.remaining -= 1
                if planned.remaining == 0:
                    self.pending_failures.remove(planned)
                return ErrorDetail(
                    error_code=planned.error_code,
                    error_message=planned.error_message,
                    resource_ids=[config_name],
                )
        return None

    def associate(self, p: dict[str, Any], now: float) -> dict[str, Any]:
        """AssociateIdentityProviderConfig, checks in the order of docs/eks-behaviour.md §2.4."""
        cluster = self._cluster(p["clusterName"])
        name = cluster.name
        token: str | None = p.get("clientRequestToken")
        replayed = self._replay(cluster, ASSOCIATE, token)
        if replayed is not None:
            return {"update": replayed.to_wire(), "tags": dict(replayed.response_tags or {})}
        busy = self._busy_update(cluster, now)
        if busy is not None:
            raise EksError(
                "ResourceInUseException", _busy_message(ASSOCIATE, name, busy), clusterName=name
            )
        if cluster.status != "ACTIVE":
            raise invalid_request(f"Cluster '{name}' is not in ACTIVE status", name)
        oidc: dict[str, Any] = p["oidc"]
        tags: dict[str, str] = p.get("tags") or {}
        config_name: str = oidc["identityProviderConfigName"]
        rules.check_config_name(config_name, name)
        rules.check_issuer_url(oidc["issuerUrl"], name)
        rules.check_not_cluster_issuer(oidc["issuerUrl"], cluster.issuer, name)
        rules.check_client_id(oidc["clientId"], name)
        rules.check_prefix("usernamePrefix", oidc.get("usernamePrefix"), name)
        rules.check_prefix("groupsPrefix", oidc.get("groupsPrefix"), name)
        rules.check_tags(tags, code="InvalidParameterException", cluster=name)
        config = IdpConfig(
            name=config_name,
            arn=self._arn(f"identityproviderconfig/{name}/oidc/{config_name}/{self._arn_uuid()}"),
            cluster_name=name,
            tags=dict(tags),
            **IdpConfig.settings_from_request(oidc),
        )
        rules.check_room_for_provider(
            cluster, config, self.config.provider_limit, self.config.config_size_limit_bytes
        )
        request = UpdateRequest(
            ASSOCIATE,
            config_name,
            json.dumps([{"type": OIDC, "name": config_name}], separators=(",", ":")),
            token,
            failure=self._take_failure(ASSOCIATE, name, config_name),
            response_tags=dict(tags),
        )
        update = self._start_update(cluster, request, now)
        cluster.configs[config_name] = config
        # A planned failure already says how the update ends: the issuer is not asked then.
        if request.failure is None and self.config.fetch_issuers:
            self._check_issuer(cluster, update, config)
        return {"update": update.to_wire(), "tags": dict(tags)}

    # ------------------------------------------------------------------ issuer fetches

    def _check_issuer(self, cluster: Cluster, update: Update, config: IdpConfig) -> None:
        check = IssuerCheck(cluster.name, cluster.uid, update.id, config.name, config.issuer_url)
        self._awaiting_issuer[update.id] = False
        self._new_issuer_checks.append(check)

    def take_issuer_checks(self) -> list[IssuerCheck]:
        """The issuer fetches queued since the last call, for the caller to run."""
        checks, self._new_issuer_checks = self._new_issuer_checks, []
        return checks

    def resolve_issuer_check(self, check: IssuerCheck, cause: str | None, now: float) -> None:
        """Hand in a fetch's outcome: ``cause`` is why the issuer is unusable, or ``None``.

        An unusable issuer makes the update end ``Failed`` at its deadline, or at ``now`` if
        the deadline passed while the fetch ran.
        """
        overdue = self._awaiting_issuer.pop(check.update_id, None)
        cluster = self.clusters.get(check.cluster)
        if overdue is None or cluster is None or cluster.uid != check.cluster_uid:
            return  # reset, or the cluster is gone, since the fetch started
        update = cluster.updates[check.update_id]
        if cause is not None:
            update.planned_failure = ErrorDetail(
                error_code=ISSUER_UNUSABLE_CODE,
                error_message=issuer_unusable_message(check.issuer_url, cause),
                resource_ids=[check.config_name],
            )
        if overdue:
            # Transitions due before now first, so this one keeps its place in time.
            self.tick(now)
            self._finish_update(cluster, check.update_id, now)

    def _arn_uuid(self) -> str:
        """32 random hex digits as 8-4-4-4-12; real ones are not RFC 4122.

        See docs/eks-behaviour.md §8.
        """
        h = self._hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    @staticmethod
    def _config_ref(p: dict[str, Any]) -> tuple[str, str]:
        ref: dict[str, str] = p["identityProviderConfig"]
        if ref["type"] != OIDC:
            raise invalid_parameter(
                f"Unsupported identity provider config type: {ref['type']}. The only type "
                f"available is {OIDC}",
                p.get("clusterName"),
            )
        return ref["type"], ref["name"]

    def _config(self, cluster: Cluster, kind: str, name: str) -> IdpConfig:
        config = cluster.configs.get(name)
        if config is None:
            raise EksError(
                "ResourceNotFoundException",
                f"No config found for cluster: {cluster.name}, config type: {kind}, "
                f"config name: {name}",
                clusterName=cluster.name,
            )
        return config

    def disassociate(self, p: dict[str, Any], now: float) -> dict[str, Any]:
        """DisassociateIdentityProviderConfig, checks in the order of docs/eks-behaviour.md §2.5."""
        kind, config_name = self._config_ref(p)
        cluster = self._cluster(p["clusterName"])
        name = cluster.name
        token: str | None = p.get("clientRequestToken")
        replayed = self._replay(cluster, DISASSOCIATE, token)
        if replayed is not None:
            return {"update": replayed.to_wire()}
        config = self._config(cluster, kind, config_name)
        if config.status == "CREATING":
            raise invalid_request(
                f"Identity provider config is not associated with cluster {name}", name
            )
        busy = self._busy_update(cluster, now)
        if busy is not None:
            raise EksError(
                "ResourceInUseException", _busy_message(DISASSOCIATE, name, busy), clusterName=name
            )
        if cluster.status != "ACTIVE":
            raise invalid_request(f"Cluster '{name}' is not in ACTIVE status", name)
        # "[]": the configs the update adds, as in the documented real response
        # (docs/eks-behaviour.md §3.3).
        request = UpdateRequest(
            DISASSOCIATE,
            config_name,
            "[]",
            token,
            failure=self._take_failure(DISASSOCIATE, name, config_name),
        )
        update = self._start_update(cluster, request, now)
        config.status = "DELETING"
        return {"update": update.to_wire()}

    def describe_config(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """DescribeIdentityProviderConfig."""
        kind, config_name = self._config_ref(p)
        cluster = self._cluster(p["clusterName"])
        return {
            "identityProviderConfig": {OIDC: self._config(cluster, kind, config_name).to_wire()}
        }

    def list_configs(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """ListIdentityProviderConfigs: every config, whatever its status, sorted by name."""
        cluster = self._cluster(p["clusterName"], trailing_period=False)
        max_results: int | None = p.get("maxResults")
        legacy = self.config.legacy_idp_list_max_results
        if (
            legacy
            and max_results not in (None, 1)
            and rules.provider_limit_for(cluster.version, None) == 1
        ):
            raise invalid_parameter("maxResults needs to be 1", cluster.name)
        names, token = paginate(
            sorted(cluster.configs), max_results=max_results, next_token=p.get("nextToken")
        )
        return {
            "identityProviderConfigs": [{"type": OIDC, "name": n} for n in names],
            "nextToken": token,
        }

    # ------------------------------------------------------------------ updates

    @staticmethod
    def _reject_non_cluster_scope(p: dict[str, Any]) -> None:
        """The simulator has no node groups, add-ons or capabilities."""
        for member, label in (
            ("nodegroupName", "node group"),
            ("addonName", "addon"),
            ("capabilityName", "capability"),
        ):
            if p.get(member):
                raise EksError(
                    "ResourceNotFoundException",
                    f"No {label} found for name: {p[member]}.",
                    clusterName=p["name"],
                )

    def describe_update(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """DescribeUpdate."""
        cluster = self._cluster(p["name"])
        self._reject_non_cluster_scope(p)
        update = cluster.updates.get(p["updateId"])
        if update is None:
            raise EksError(
                "ResourceNotFoundException",
                f"No update found for ID: {p['updateId']}",
                clusterName=cluster.name,
            )
        return {"update": update.to_wire()}

    def list_updates(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """ListUpdates: the cluster's updates, oldest first, full history."""
        cluster = self._cluster(p["name"])
        self._reject_non_cluster_scope(p)
        ids = list(cluster.updates)
        page, token = paginate(
            ids,
            max_results=p.get("maxResults"),
            next_token=p.get("nextToken"),
            position={update_id: i for i, update_id in enumerate(ids)},
        )
        return {"updateIds": page, "nextToken": token}

    # ------------------------------------------------------------------ tags

    def tag_resource(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """TagResource. Allowed even while an update runs (docs/eks-behaviour.md §6)."""
        tagging.add_tags(tagging.resolve(self.clusters, self._arn(""), p["resourceArn"]), p["tags"])
        return {}

    def untag_resource(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """UntagResource."""
        resource = tagging.resolve(self.clusters, self._arn(""), p["resourceArn"])
        tagging.remove_tags(resource, p["tagKeys"])
        return {}

    def list_tags(self, p: dict[str, Any], _now: float) -> dict[str, Any]:
        """ListTagsForResource (``{}`` when untagged)."""
        return {"tags": dict(tagging.resolve(self.clusters, self._arn(""), p["resourceArn"]).tags)}

    # ------------------------------------------------------------------ control (not EKS API)

    def remove_cluster(self, name: str) -> bool:
        """Delete a cluster immediately, skipping DELETING. Returns whether it existed."""
        return self.clusters.pop(name, None) is not None

    def start_phantom_update(self, name: str, seconds: float, now: float) -> str:
        """Fault: an invisible platform update blocks mutations (409) for ``seconds``.

        DescribeCluster still shows ACTIVE, as reported for AWS-initiated updates
        (docs/eks-behaviour.md §3.2). The id appears only in the 409 message, never in ListUpdates.
        """
        self.tick(now)
        cluster = self._cluster(name)
        cluster.phantom_update_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        cluster.phantom_until = now + seconds
        return cluster.phantom_update_id

    def plan_failure(self, planned: PlannedFailure) -> None:
        """Fault: make the next matching association(s) or disassociation(s) end Failed."""
        self.pending_failures.append(planned)

    def reset(self) -> None:
        """Forget every resource and planned failure."""
        self.clusters.clear()
        self.pending_failures.clear()
        self._events.clear()
        self._awaiting_issuer.clear()
        self._new_issuer_checks.clear()

    def snapshot(self) -> StateSnapshot:
        """The persistent part of the state."""
        return StateSnapshot(
            clusters=[c.model_copy(deep=True) for c in self.clusters.values()],
            pending_failures=[f.model_copy() for f in self.pending_failures],
        )

    def restore(self, snap: StateSnapshot) -> None:
        """Replace the state with a snapshot and rebuild the transition queue from it."""
        self.reset()
        self.pending_failures = [f.model_copy() for f in snap.pending_failures]
        for cluster in snap.clusters:
            self.clusters[cluster.name] = cluster
            if cluster.transition_at is not None:
                kind: EventKind = (
                    "cluster-ready" if cluster.status == "CREATING" else "cluster-gone"
                )
                self._schedule(cluster.transition_at, kind, cluster)
            for update in cluster.updates.values():
                if update.status == "InProgress":
                    self._schedule(update.completes_at, "update-done", cluster, update.id)
            for config in cluster.configs.values():
                if config.gc_at is not None:
                    self._schedule(config.gc_at, "config-gc", cluster, config.name)
