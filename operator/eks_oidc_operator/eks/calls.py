"""Typed EKS calls for one (region, role): the only place the operator talks to boto3.

Every method **blocks** (boto3 is synchronous, and botocore's retries sleep). The reconcile layer
calls them from worker threads (``asyncio.to_thread``); they must never be called on kopf's
event loop, where one slow or throttled call would stall every other object.

Errors are translated once, here, and nowhere else: every ``botocore`` failure leaves as
:class:`~eks_oidc_operator.models.eks.EksError`, raised ``from`` the original.

* ``ClientError`` (EKS answered with an error): ``code`` is EKS's error code, ``message`` EKS's
  own words, ``http_status`` the status. A ``ClientError`` of another operation raised inside
  the call keeps that operation's code and prefixes the message with its name.
* An ``EksError`` raised inside the call leaves unchanged: that is how a failed STS
  ``AssumeRole`` (refreshing an assumed role's credentials, see
  :mod:`eks_oidc_operator.eks.factory`) arrives, with operation ``AssumeRole``, STS's code or
  botocore's exception name, and a message naming the role, whatever the EKS operation was.
* Any other ``BotoCoreError`` (no or partial credentials, no region, connection refused,
  timeouts, a closed connection, client-side parameter validation, ...): ``code`` is the
  exception's class name, ``message`` its text, no ``http_status``.
* A response missing a member the service model promises: ``code`` ``MalformedResponse``.

"Not found" is an answer, not a failure, for the reads that the reconciler uses to observe
state: :meth:`EksClient.describe_cluster`, :meth:`EksClient.describe_config` and
:meth:`EksClient.describe_update` return ``None`` on ``ResourceNotFoundException``. Every other
method raises it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from eks_oidc_operator import constants
from eks_oidc_operator.eks import mapping
from eks_oidc_operator.models.eks import EksError

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

    from eks_oidc_operator.models import EksUpdate, OidcConfigSpec
    from eks_oidc_operator.models.eks import ObservedCluster, ObservedConfig

_T = TypeVar("_T")

NOT_FOUND = "ResourceNotFoundException"
"""EKS's 404 for clusters, configs and updates alike."""

MALFORMED_RESPONSE = "MalformedResponse"
"""Our code for a response that lacks a member the service model promises."""


class EksClient:
    """The EKS operations the operator uses, typed and with errors translated.

    Parameters
    ----------
    client
        One boto3 ``eks`` client. It carries the region, credentials (possibly an assumed
        role), endpoint and retry configuration; see
        :class:`~eks_oidc_operator.eks.factory.EksClientFactory`. boto3 clients are
        thread-safe, so one instance serves every worker thread.
    """

    def __init__(self, client: EKSClient) -> None:
        self._client = client

    @property
    def boto_client(self) -> EKSClient:
        """The wrapped boto3 client (for tests and diagnostics: endpoint, region)."""
        return self._client

    def describe_cluster(self, cluster: str) -> ObservedCluster | None:
        """DescribeCluster.

        Parameters
        ----------
        cluster
            Cluster name.

        Returns
        -------
        ObservedCluster or None
            ``None`` when the cluster does not exist.
        """
        return _or_none(
            "DescribeCluster",
            lambda: mapping.observed_cluster(
                self._client.describe_cluster(name=cluster)["cluster"], name=cluster
            ),
        )

    def describe_config(self, cluster: str, name: str) -> ObservedConfig | None:
        """DescribeIdentityProviderConfig.

        Parameters
        ----------
        cluster
            Cluster name.
        name
            Config name.

        Returns
        -------
        ObservedConfig or None
            ``None`` on *every* ``ResourceNotFoundException``, whether EKS means the config or
            the whole cluster. The two are not told apart on purpose: the only discriminator
            is free message text ("No cluster found for name: ..." vs "No config found for
            cluster: ..."), known from issue reports rather than a contract, and both carry
            ``clusterName``; and "no such config" is true in both cases. The caller asks
            :meth:`describe_cluster` when it needs to know, which costs one extra call only
            when the config is missing, and lets a deletion release at once when the cluster
            is gone instead of failing.
        """
        return _or_none(
            "DescribeIdentityProviderConfig",
            lambda: mapping.observed_config(
                self._client.describe_identity_provider_config(
                    clusterName=cluster,
                    identityProviderConfig={"type": constants.EKS_CONFIG_TYPE, "name": name},
                )["identityProviderConfig"]["oidc"],
                cluster=cluster,
                name=name,
            ),
        )

    def associate(
        self,
        cluster: str,
        name: str,
        oidc: OidcConfigSpec,
        tags: Mapping[str, str],
        token: str,
    ) -> EksUpdate:
        """AssociateIdentityProviderConfig.

        Parameters
        ----------
        cluster
            Cluster name.
        name
            Config name (``oidc.identity_provider_config_name`` is ignored here: the caller has
            already resolved its default).
        oidc
            The configuration to associate.
        tags
            Tags for the new config (omitted from the request when empty).
        token
            ``clientRequestToken``. botocore resends it on its own retries; the caller's
            deterministic value makes a repeat after a crash safe too.

        Returns
        -------
        EksUpdate
            The association's update (``InProgress``).
        """
        request = mapping.associate_request(cluster, name, oidc, tags, token)
        return _translated(
            constants.UPDATE_ASSOCIATE,
            lambda: mapping.observed_update(
                self._client.associate_identity_provider_config(**request)["update"]
            ),
        )

    def disassociate(self, cluster: str, name: str, token: str) -> EksUpdate:
        """DisassociateIdentityProviderConfig.

        Parameters
        ----------
        cluster
            Cluster name.
        name
            Config name.
        token
            ``clientRequestToken``.

        Returns
        -------
        EksUpdate
            The disassociation's update (``InProgress``; its ``config_names`` is empty, as EKS
            puts ``"[]"`` in the params).
        """
        return _translated(
            constants.UPDATE_DISASSOCIATE,
            lambda: mapping.observed_update(
                self._client.disassociate_identity_provider_config(
                    clusterName=cluster,
                    identityProviderConfig={"type": constants.EKS_CONFIG_TYPE, "name": name},
                    clientRequestToken=token,
                )["update"]
            ),
        )

    def list_configs(self, cluster: str) -> list[str]:
        """ListIdentityProviderConfigs (every page): the names of the cluster's configs.

        Parameters
        ----------
        cluster
            Cluster name.

        Returns
        -------
        list of str
            Config names, whatever their status (a config CREATING or DELETING counts
            against the cluster's provider limit too).
        """

        def names() -> list[str]:
            paginator = self._client.get_paginator("list_identity_provider_configs")
            return [
                config["name"]
                for page in paginator.paginate(clusterName=cluster)
                for config in page.get("identityProviderConfigs", [])
            ]

        return _translated("ListIdentityProviderConfigs", names)

    def describe_update(self, cluster: str, update_id: str) -> EksUpdate | None:
        """DescribeUpdate of a cluster-level update (no node group, add-on or capability).

        Parameters
        ----------
        cluster
            Cluster name.
        update_id
            The update's id.

        Returns
        -------
        EksUpdate or None
            ``None`` when EKS knows no such update (or no such cluster).
        """
        return _or_none(
            "DescribeUpdate",
            lambda: mapping.observed_update(
                self._client.describe_update(name=cluster, updateId=update_id)["update"]
            ),
        )

    def find_config_update(self, cluster: str, name: str, type: str) -> EksUpdate | None:
        """Find the update of config ``name`` after a crash lost its id.

        ListUpdates (every page), then DescribeUpdate for each id, and the choice of
        :func:`~eks_oidc_operator.eks.mapping.newest_config_update`. It costs one call per
        update in the cluster's history; it runs only when a config is seen CREATING or
        DELETING with no update on record, or is adopted before its ARN was recorded, so
        simplicity wins over cleverness.

        Parameters
        ----------
        cluster
            Cluster name.
        name
            Config name.
        type
            ``AssociateIdentityProviderConfig`` or ``DisassociateIdentityProviderConfig``.

        Returns
        -------
        EksUpdate or None
            The newest matching update; ``None`` if there is none. An id that vanished
            between the list and the describe is skipped.
        """

        def update_ids() -> list[str]:
            paginator = self._client.get_paginator("list_updates")
            return [
                update_id
                for page in paginator.paginate(name=cluster)
                for update_id in page.get("updateIds", [])
            ]

        ids = _translated("ListUpdates", update_ids)
        described = (self.describe_update(cluster, update_id) for update_id in ids)
        return mapping.newest_config_update(
            (update for update in described if update is not None), name, type
        )

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        """TagResource: set (add or overwrite) ``tags``; other tags are left alone.

        Parameters
        ----------
        arn
            The resource's ARN (the config's ``identityProviderConfigArn``).
        tags
            Tags to set. Nothing is sent when empty: EKS's ``TagMap`` needs one entry.
        """
        if not tags:
            return
        _translated(
            "TagResource",
            lambda: self._client.tag_resource(resourceArn=arn, tags=dict(tags)),
        )

    def untag(self, arn: str, keys: Collection[str]) -> None:
        """UntagResource.

        Parameters
        ----------
        arn
            The resource's ARN.
        keys
            Tag keys to remove, sent sorted so the request is deterministic. Nothing is sent
            when empty: botocore rejects an empty ``tagKeys``.
        """
        if not keys:
            return
        _translated(
            "UntagResource",
            lambda: self._client.untag_resource(resourceArn=arn, tagKeys=sorted(keys)),
        )


def _translated(operation: str, call: Callable[[], _T]) -> _T:
    """Run ``call`` (one EKS operation and its mapping); every failure leaves as EksError."""
    try:
        return call()
    # An EksError (a failed AssumeRole) is none of these, so it passes through as raised.
    except ClientError as error:
        raise client_error(error, operation) from error
    except BotoCoreError as error:
        raise EksError(type(error).__name__, str(error), operation=operation) from error
    except (KeyError, ValueError) as error:
        # A member the service model promises is missing (or not what it promises): say so
        # with EKS's operation, instead of letting a bare KeyError crash the handler.
        message = f"unexpected {operation} response: {error!r}"
        raise EksError(MALFORMED_RESPONSE, message, operation=operation) from error


def _or_none(operation: str, call: Callable[[], _T]) -> _T | None:
    """Like :func:`_translated`, but ``operation``'s ResourceNotFoundException is ``None``."""
    try:
        return _translated(operation, call)
    except EksError as error:
        # Only EKS's own answer to this operation means "no such thing": an error of another
        # operation on the way (AssumeRole) says nothing about the cluster.
        if error.code == NOT_FOUND and error.operation == operation:
            return None
        raise


def client_error(error: ClientError, operation: str) -> EksError:
    """Translate a botocore ``ClientError`` raised during ``operation``.

    Parameters
    ----------
    error
        The botocore exception.
    operation
        The EKS operation that was called.

    Returns
    -------
    EksError
        With EKS's code and message and the HTTP status. When the error comes from another
        operation made on the way, the code is that operation's and the message starts with
        its name, so e.g. an "AccessDenied" is not mistaken for EKS refusing the call. (STS
        ``AssumeRole`` no longer arrives here: the factory translates it itself.)
    """
    details = error.response.get("Error", {})
    code = details.get("Code") or "Unknown"
    message = details.get("Message") or str(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if error.operation_name and error.operation_name != operation:
        message = f"{error.operation_name}: {message}"
    return EksError(code, message, operation=operation, http_status=status)
