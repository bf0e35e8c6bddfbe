"""One :class:`EksClient` per (region, role), built lazily and cached for the operator's life.

Clients carry botocore's retry configuration (standard mode: throttles, 5xx and
connection errors are retried with jittered backoff, reusing the same ``clientRequestToken``),
connect/read timeouts, and a user agent naming the operator, so its calls can be told apart in
CloudTrail.

There is deliberately no endpoint code here: boto3 already honours ``AWS_ENDPOINT_URL_EKS`` and
``AWS_ENDPOINT_URL`` (that is how tests and the demo point the operator at the simulator).

Cross-account access: for a ``role_arn`` the client signs with credentials of that role, assumed
through STS (``AssumeRole`` in the same region, with the base session's own credentials) and
refreshed automatically by botocore before they expire. The first ``AssumeRole`` happens on the
first EKS call, not in :meth:`EksClientFactory.get`, so ``get`` makes no network call of its own
(the base session's credential chain may still be resolved there, as boto3 does for any client).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import BotoCoreError
from botocore.loaders import Loader

from eks_oidc_operator import __version__
from eks_oidc_operator.eks.calls import EksClient
from eks_oidc_operator.eks.errors import EksError

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_sts import STSClient

ROLE_SESSION_NAME: Final = "eks-oidc-operator"
"""``RoleSessionName`` of every assumed role: CloudTrail shows it next to the role."""

USER_AGENT_EXTRA: Final = f"eks-oidc-operator/{__version__}"
"""Appended to botocore's user agent, so the operator's calls are recognisable."""

RETRY_MODE: Final = "standard"
"""botocore's retry mode for every client; the operator's own backoff takes over after it."""


class EksClientFactory:
    """Build and cache :class:`EksClient` objects per ``(region, role_arn)``; thread-safe.

    Parameters
    ----------
    max_attempts
        botocore's ``total_max_attempts``: attempts per call including the first (1 disables
        botocore's retries).
    connect_timeout, read_timeout
        Socket timeouts in seconds.
    session_factory
        Makes the base boto3 session (its credentials sign EKS calls, or assume the roles).
        Defaults to ``boto3.session.Session`` with the standard credential chain; tests pass
        their own. Called once, on the first :meth:`get`.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 3,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        session_factory: Callable[[], boto3.session.Session] | None = None,
    ) -> None:
        self._config = Config(
            retries={"mode": RETRY_MODE, "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra=USER_AGENT_EXTRA,
        )
        self._session_factory = session_factory or boto3.session.Session
        self._session: boto3.session.Session | None = None
        self._loader: Loader | None = None
        self._clients: dict[tuple[str, str | None], EksClient] = {}
        # One lock for the cache and for client creation: boto3 sessions are not thread-safe,
        # and building under the lock means two threads never build the same client twice.
        self._lock = threading.Lock()

    @property
    def config(self) -> Config:
        """The botocore configuration every client is built with."""
        return self._config

    def get(self, region: str, role_arn: str | None) -> EksClient:
        """Return the client for ``region``, as ``role_arn`` (or the base credentials).

        Parameters
        ----------
        region
            AWS region of the cluster.
        role_arn
            IAM role to assume, or ``None`` for the base session's own credentials.

        Returns
        -------
        EksClient
            The same object for the same ``(region, role_arn)`` on every call.

        Raises
        ------
        EksError
            If botocore cannot build the client (e.g. ``InvalidRegionError``), with the
            exception's class name as ``code``.
        """
        key = (region, role_arn)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                try:
                    client = EksClient(self._build(region, role_arn))
                except BotoCoreError as error:
                    raise EksError(
                        type(error).__name__, str(error), operation="CreateClient"
                    ) from error
                self._clients[key] = client
            return client

    def _base_session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def _build(self, region: str, role_arn: str | None) -> EKSClient:
        base = self._base_session()
        if role_arn is None:
            return base.client("eks", region_name=region, config=self._config)
        if self._loader is None:
            # Role sessions share one data loader (made as botocore makes it, honouring
            # AWS_DATA_PATH): each would otherwise parse the service models again, about
            # 100 ms per client instead of 25.
            self._loader = botocore.session.Session().get_component("data_loader")
        sts = base.client("sts", region_name=region, config=self._config)
        session = assumed_role_session(sts, role_arn, loader=self._loader)
        return session.client("eks", region_name=region, config=self._config)


def assumed_role_session(
    sts: STSClient, role_arn: str, *, loader: Loader | None = None
) -> boto3.session.Session:
    """A boto3 session whose credentials are ``role_arn``'s, assumed through ``sts``.

    Parameters
    ----------
    sts
        The STS client that assumes the role (its own credentials are the caller's).
    role_arn
        The role to assume.
    loader
        A botocore data loader to share (it caches parsed service models); by default the
        session makes its own.

    Returns
    -------
    boto3.session.Session
        A fresh session (it shares no state with the base session) whose only credential
        source is :func:`assume_role_credentials`.
    """
    credentials = assume_role_credentials(sts, role_arn)
    core = botocore.session.Session()
    if loader is not None:
        core.register_component("data_loader", loader)
    # A resolver with our provider alone: the session must never fall back to the process's
    # own credentials, which would silently act in the wrong account.
    core.register_component("credential_provider", CredentialResolver([_Fixed(credentials)]))
    return boto3.session.Session(botocore_session=core)


def assume_role_credentials(sts: STSClient, role_arn: str) -> DeferredRefreshableCredentials:
    """Auto-refreshing credentials of ``role_arn``.

    Parameters
    ----------
    sts
        The STS client that calls ``AssumeRole``.
    role_arn
        The role to assume, with session name :data:`ROLE_SESSION_NAME`.

    Returns
    -------
    DeferredRefreshableCredentials
        Nothing is called until the credentials are first used; botocore then calls
        ``AssumeRole`` again whenever they are within its refresh window of expiring. A failing
        ``AssumeRole`` surfaces from the EKS call that needed the credentials (as STS's
        ``ClientError``, which :mod:`eks_oidc_operator.eks.client` translates).
    """

    def refresh() -> dict[str, str]:
        response = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)
        issued = response["Credentials"]
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": issued["Expiration"].isoformat(),
        }

    return DeferredRefreshableCredentials(refresh_using=refresh, method="assume-role")


class _Fixed(CredentialProvider):
    """A credential provider that always returns the same (refreshable) credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "eks-oidc-operator-assume-role"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials
