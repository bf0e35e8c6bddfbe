"""One :class:`EksClient` per (region, role, external id, session name), built lazily, cached.

Clients carry botocore's retry configuration (standard mode: throttles, 5xx and
connection errors are retried with jittered backoff, reusing the same ``clientRequestToken``),
connect/read timeouts, and a user agent naming the operator, so its calls can be told apart in
CloudTrail.

There is deliberately no endpoint code here: boto3 already honours ``AWS_ENDPOINT_URL_EKS``,
``AWS_ENDPOINT_URL_STS`` and ``AWS_ENDPOINT_URL`` (that is how tests and the demo point the
operator at the simulator).

Cross-account access: for a ``role_arn`` the client signs with credentials of that role, assumed
through STS (``AssumeRole`` in the same region, with the base session's own credentials, the
caller's ``ExternalId`` if any, and a ``RoleSessionName`` that the caller may choose per object,
see :func:`session_name_for`) and refreshed automatically by botocore before they expire. The
first ``AssumeRole`` happens on the first EKS call, not in :meth:`EksClientFactory.get`, so
``get`` makes no network call of its own (the base session's credential chain may still be
resolved there, as boto3 does for any client). Every failure of ``AssumeRole`` leaves that EKS
call as an :class:`EksError` of operation ``AssumeRole`` naming the role, never as a failure of
the EKS operation itself.

Cost of a client, and so of a session name per object: each distinct key is its own botocore
session and ``eks`` client (about 20 ms to build and 350 KiB of Python objects, measured with
botocore 1.44), its own HTTPS connection pool to EKS, and its own credentials, so its own
``AssumeRole``: on its first call, then about every 45 minutes while it is used (STS's default
hour, refreshed by botocore in its last 15 minutes). What is shared by every role client is
what can be: the data loader (the parsed service models, most of a client's build time and
memory, and endpoint data cut to EKS and STS, see ``eks/endpoints.py``) and one ``sts`` client
per region. Clients are cached, least recently used first out, at most ``max_clients`` of them:
a fleet over many roles (or a session name per object) holds a bounded number, and a client
dropped is rebuilt on its next use (about 20 ms). The role's credentials are kept apart from
the client, for many more keys (:data:`CREDENTIALS_PER_CLIENT` per client), so a rebuilt
client signs with the credentials it had: ``AssumeRole`` happens once per credentials' life,
not once per rebuild.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError
from botocore.loaders import Loader

from eks_oidc_operator import __version__
from eks_oidc_operator.eks.calls import EksClient
from eks_oidc_operator.eks.endpoints import lean_loader, lean_session
from eks_oidc_operator.eks.lru import Lru
from eks_oidc_operator.eks.telemetry import AwsObserver, watch
from eks_oidc_operator.models.eks import EksError

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import AssumeRoleRequestTypeDef

ROLE_SESSION_NAME: Final = "eks-oidc-operator"
"""Default ``RoleSessionName`` of an assumed role: CloudTrail shows it next to the role."""

SESSION_NAME_PREFIX: Final = "eks-oidc."
"""Start of every name :func:`session_name_for` makes, so CloudTrail shows who assumed."""

ASSUME_ROLE: Final = "AssumeRole"
"""The ``operation`` of every :class:`EksError` about assuming a role."""

PARAM_VALIDATION: Final = "ParamValidationError"
"""``code`` of a session name or external id STS would refuse (botocore's name for it)."""

USER_AGENT_EXTRA: Final = f"eks-oidc-operator/{__version__}"
"""Appended to botocore's user agent, so the operator's calls are recognisable."""

CREDENTIALS_PER_CLIENT: Final = 16
"""Credentials kept per client kept: a few KiB each, against a client's 350 KiB, so a rebuilt
client rarely has to assume its role again."""

RETRY_MODE: Final = "standard"
"""botocore's retry mode for every client; the operator's own backoff takes over after it."""

# STS's own patterns. Its ``\w`` is ASCII: re.ASCII keeps Python from accepting other letters.
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_NOT_IN_SESSION_NAME = re.compile(r"[^\w+=,.@-]", re.ASCII)
# What session_name_for leaves readable as is: Kubernetes' own characters. The namespace has no
# dot (a DNS label), so the first dot after the prefix splits the two unambiguously.
_PLAIN_NAMESPACE = re.compile(r"[A-Za-z0-9-]+", re.ASCII)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9.-]+", re.ASCII)
_SESSION_NAME_MAX: Final = 64
_DIGEST_CHARS: Final = 16
# Marks a digested name. A plain name never contains it, so the two forms cannot meet.
_DIGEST_MARK: Final = "_"

_Key = tuple[str, str | None, str | None, str]
_Client = TypeVar("_Client")


def session_name_for(namespace: str, name: str) -> str:
    r"""A ``RoleSessionName`` that identifies the Kubernetes object ``namespace``/``name``.

    Pure. ``eks-oidc.<namespace>.<name>`` when that is valid for STS and unambiguous; otherwise
    (too long, or characters STS refuses or Kubernetes names do not have) the same text with
    refused characters replaced by ``-``, cut to fit, and ``_`` plus a 16-hex sha256 digest of
    the exact pair, so the name stays readable in CloudTrail and two objects never share one.

    Parameters
    ----------
    namespace
        The object's namespace.
    name
        The object's name.

    Returns
    -------
    str
        2 to 64 characters of ``[\w+=,.@-]``; the same for the same pair, on every call.
    """
    readable = f"{SESSION_NAME_PREFIX}{namespace}.{name}"
    if (
        len(readable) <= _SESSION_NAME_MAX
        and _PLAIN_NAMESPACE.fullmatch(namespace)
        and _PLAIN_NAME.fullmatch(name)
    ):
        return readable
    # Length-prefixed, so ("a.b", "c") and ("a", "b.c") never hash the same text.
    exact = f"{len(namespace)}:{namespace}/{name}".encode()
    digest = hashlib.sha256(exact).hexdigest()[:_DIGEST_CHARS]
    room = _SESSION_NAME_MAX - len(_DIGEST_MARK) - _DIGEST_CHARS
    return f"{_NOT_IN_SESSION_NAME.sub('-', readable)[:room]}{_DIGEST_MARK}{digest}"


class EksClientFactory:
    """Build and cache :class:`EksClient` objects; thread-safe.

    Parameters
    ----------
    max_attempts
        botocore's ``total_max_attempts``: attempts per call including the first (1 disables
        botocore's retries). STS's ``AssumeRole`` is retried the same way.
    connect_timeout, read_timeout
        Socket timeouts in seconds.
    session_factory
        Makes the base boto3 session (its credentials sign EKS calls, or assume the roles).
        Defaults to :func:`~eks_oidc_operator.eks.endpoints.lean_session` (the standard
        credential chain, and the data loader every role session shares); tests pass their
        own. Called once, on the first :meth:`get`.
    max_connections
        Size of each client's HTTPS connection pool: the number of threads that may call at
        once (the operator's worker threads).
    max_clients
        Clients kept at most (least recently used first out); credentials of assumed roles are
        kept for :data:`CREDENTIALS_PER_CLIENT` times as many keys.
    observer
        Told of every HTTP attempt of every EKS and STS client built here, botocore's retries
        included (the AWS-call metrics); none by default.
    """

    def __init__(  # noqa: PLR0913 - each a knob of every client built, all keyword-only
        self,
        *,
        max_attempts: int = 3,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        session_factory: Callable[[], boto3.session.Session] | None = None,
        observer: AwsObserver | None = None,
        max_connections: int = 10,
        max_clients: int = 64,
    ) -> None:
        self._config = Config(
            retries={"mode": RETRY_MODE, "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # One connection per worker thread that may call at once: with fewer, urllib3
            # discards the extras after each burst (and warns) and the next burst reconnects.
            max_pool_connections=max_connections,
            user_agent_extra=USER_AGENT_EXTRA,
        )
        self._session_factory = session_factory or (lambda: lean_session(self._data_loader()))
        self._observer = observer
        self._session: boto3.session.Session | None = None
        self._loader: Loader | None = None
        self._sts: dict[str, STSClient] = {}
        self._clients: Lru[_Key, EksClient] = Lru(max_clients)
        self._credentials: Lru[_Key, DeferredRefreshableCredentials] = Lru(
            max_clients * CREDENTIALS_PER_CLIENT
        )
        # One lock for the caches and for client creation: boto3 sessions are not thread-safe,
        # and building under the lock means two threads never build the same client twice.
        self._lock = threading.Lock()

    @property
    def config(self) -> Config:
        """The botocore configuration every client is built with."""
        return self._config

    def get(
        self,
        region: str,
        role_arn: str | None,
        *,
        external_id: str | None = None,
        session_name: str | None = None,
    ) -> EksClient:
        """The client for ``region``, as ``role_arn`` (``None``: the base session's own
        credentials): the same object for the same arguments on every call.

        ``external_id`` is sent only when given (it needs ``role_arn``); ``session_name`` (e.g.
        from :func:`session_name_for`; ``None`` means :data:`ROLE_SESSION_NAME`) is ignored
        without ``role_arn``, so callers may always pass their object's name. Raises
        :class:`EksError` when botocore cannot build the client (the exception's class name as
        ``code``, operation ``CreateClient``), or with code ``ParamValidationError`` and
        operation ``AssumeRole`` when the session name or external id breaks STS's rules, or an
        external id comes without a role.
        """
        key = _key(region, role_arn, external_id, session_name)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                try:
                    client = EksClient(self._build(key))
                except BotoCoreError as error:
                    raise EksError(
                        type(error).__name__, str(error), operation="CreateClient"
                    ) from error
                self._clients.put(key, client)
            return client

    def _base_session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def _data_loader(self) -> Loader:
        if self._loader is None:
            # Every session made here shares one data loader: each would otherwise parse the
            # service models again (about 100 ms per client instead of 25) and keep its own
            # copy. It is lean: its endpoint data lists only EKS and STS (see eks/endpoints.py).
            self._loader = lean_loader()
        return self._loader

    def _watched(self, client: _Client) -> _Client:
        if self._observer is not None:
            watch(client, self._observer)  # type: ignore[arg-type]
        return client

    def _build(self, key: _Key) -> EKSClient:
        region, role_arn, external_id, session_name = key
        base = self._base_session()
        if role_arn is None:
            return self._watched(base.client("eks", region_name=region, config=self._config))
        sts = self._sts.get(region)
        if sts is None:
            # One STS client per region serves every role (it signs with the base credentials
            # and is thread-safe): a client per object would add its own connection pool.
            sts = self._sts[region] = self._watched(
                base.client("sts", region_name=region, config=self._config)
            )
        # Across regions too: a role's credentials sign in any region.
        role_key = ("", role_arn, external_id, session_name)
        credentials = self._credentials.get(role_key)
        if credentials is None:
            credentials = assume_role_credentials(
                sts, role_arn, external_id=external_id, session_name=session_name
            )
            self._credentials.put(role_key, credentials)
        session = assumed_role_session(credentials, loader=self._data_loader())
        return self._watched(session.client("eks", region_name=region, config=self._config))


def _key(
    region: str, role_arn: str | None, external_id: str | None, session_name: str | None
) -> _Key:
    """The cache key of :meth:`EksClientFactory.get`, its arguments checked against STS's rules.

    Checked here, before anything is built or cached, so a bad name fails the same way on every
    call, and on the object that asked, rather than at the first EKS call.
    """
    if role_arn is None:
        if external_id is not None:
            # Silently dropping it would sign with the base credentials the caller meant to
            # scope with an external id.
            raise _invalid("ExternalId is given but there is no role to assume")
        # No AssumeRole, so no session: one client per region, whatever the caller's object.
        return (region, None, None, ROLE_SESSION_NAME)
    if external_id is not None and not _EXTERNAL_ID.fullmatch(external_id):
        # Not echoed: an external id is not meant to be shown around.
        raise _invalid(
            f"ExternalId of {role_arn} must be 2-1224 characters of [\\w+=,.@:/-] "
            f"(got one of {len(external_id)})"
        )
    name = ROLE_SESSION_NAME if session_name is None else session_name
    if not _SESSION_NAME.fullmatch(name):
        raise _invalid(
            f"RoleSessionName for {role_arn} must be 2-64 characters of [\\w+=,.@-], got {name!r}"
        )
    return (region, role_arn, external_id, name)


def _invalid(message: str) -> EksError:
    return EksError(PARAM_VALIDATION, message, operation=ASSUME_ROLE)


def assumed_role_session(
    credentials: DeferredRefreshableCredentials, *, loader: Loader | None = None
) -> boto3.session.Session:
    """A boto3 session whose only credentials are ``credentials``.

    Parameters
    ----------
    credentials
        The role's credentials, from :func:`assume_role_credentials`.
    loader
        A botocore data loader to share (it caches parsed service models); by default the
        session makes its own.

    Returns
    -------
    boto3.session.Session
        A fresh session (it shares no state with the base session) whose only credential
        source is ``credentials``.
    """
    core = botocore.session.Session()
    if loader is not None:
        core.register_component("data_loader", loader)
    # A resolver with our provider alone: the session must never fall back to the process's
    # own credentials, which would silently act in the wrong account.
    core.register_component("credential_provider", CredentialResolver([_Fixed(credentials)]))
    return boto3.session.Session(botocore_session=core)


def assume_role_credentials(
    sts: STSClient,
    role_arn: str,
    *,
    external_id: str | None = None,
    session_name: str | None = None,
) -> DeferredRefreshableCredentials:
    """Auto-refreshing credentials of ``role_arn``, assumed through ``sts`` (``external_id``
    sent only when given; ``session_name`` ``None`` means :data:`ROLE_SESSION_NAME`, checked by
    :meth:`EksClientFactory.get`, refused by STS when bad).

    Nothing is called until the credentials are first used; botocore then calls ``AssumeRole``
    again whenever they near expiry. A failing ``AssumeRole`` raises :class:`EksError` (see
    :func:`assume_role_error`) from the EKS call that needed them: botocore re-raises it when
    the credentials are missing or about to expire (its mandatory window), and in the advisory
    window before that logs it and keeps signing with the credentials it has.
    """
    request: AssumeRoleRequestTypeDef = {
        "RoleArn": role_arn,
        "RoleSessionName": ROLE_SESSION_NAME if session_name is None else session_name,
    }
    if external_id is not None:
        request["ExternalId"] = external_id

    def refresh() -> dict[str, str]:
        try:
            response = sts.assume_role(**request)
        except (ClientError, BotoCoreError) as error:
            # Raised here, where the role is known: past this point the error would surface
            # as a failure of whichever EKS operation needed the credentials.
            raise assume_role_error(role_arn, error) from error
        issued = response["Credentials"]
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": issued["Expiration"].isoformat(),
        }

    return DeferredRefreshableCredentials(refresh_using=refresh, method="assume-role")


def assume_role_error(role_arn: str, error: ClientError | BotoCoreError) -> EksError:
    """Translate a failed ``AssumeRole`` of ``role_arn``.

    Parameters
    ----------
    role_arn
        The role that could not be assumed.
    error
        STS's ``ClientError``, or the botocore exception raised before STS answered
        (``EndpointConnectionError``, timeouts, ``NoCredentialsError`` of the base session).

    Returns
    -------
    EksError
        Operation ``AssumeRole``; ``code`` STS's error code or the exception's class name;
        ``message`` "AssumeRole of <role> failed: <STS's or botocore's words>"; the HTTP status
        when STS answered.
    """
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code") or "Unknown"
        words = details.get("Message") or str(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    else:
        code, words, status = type(error).__name__, str(error), None
    message = f"{ASSUME_ROLE} of {role_arn} failed: {words}"
    return EksError(code, message, operation=ASSUME_ROLE, http_status=status)


class _Fixed(CredentialProvider):
    """A credential provider that always returns the same (refreshable) credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "eks-oidc-operator-assume-role"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials
