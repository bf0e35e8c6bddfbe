"""Operator start-up: kopf's own settings, each with its reason."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import kopf

from eks_oidc_operator import constants
from eks_oidc_operator.reconcile.observation import CrdState
from eks_oidc_operator.runtime.services import Runtime

WORKER_IDLE_SECONDS = 0.5
"""How long kopf keeps an object's worker after its last event (kopf's default: 5 s)."""
LISTING_PAGE = 500
"""Objects per page of the listing kopf makes when it starts watching."""


def register(runtime: Runtime, registry: kopf.OperatorRegistry) -> None:
    """Register the login and start-up handlers that configure kopf for this operator."""

    # A registry of our own does not carry kopf's default login handlers: in a pod the
    # ServiceAccount token, elsewhere KUBECONFIG (kopf's own parsers, no client library).
    @kopf.on.login(registry=registry)
    async def login(**kwargs: Any) -> kopf.AiohttpSession | None:
        info = kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)
        if info is None:
            return None
        # Each watch holds a connection while it runs: one per watched namespace, or one for
        # all of them.
        watches = max(1, len(runtime.namespaces))
        return pooled(info, runtime.settings.api_connections + watches)

    @kopf.on.cleanup(registry=registry)
    async def close(**_: Any) -> None:
        await runtime.issuers.close()

    @kopf.on.startup(registry=registry)
    async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        _configure_kopf(settings)
        _configure_workers(settings, runtime.settings.max_workers)
        # The tenancy policy read once now: its wildcard rules are warned about at start-up,
        # and its metrics are set, before any object asks.
        runtime.tenancy.current()
        await _crd_served(runtime)


def _configure_kopf(settings: kopf.OperatorSettings) -> None:
    """kopf's bookkeeping, events and discovery, as this operator needs them."""
    # Our own prefix for kopf's bookkeeping, so another kopf operator never reads ours.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=constants.ANNOTATION_PREFIX
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=constants.ANNOTATION_PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = constants.FINALIZER
    settings.posting.reporting_component = constants.FIELD_MANAGER
    # Our events are explicit (kopf.event); log lines are not events (kopf >= 1.45 default).
    settings.posting.loggers = False
    # No discovery, in either scope. Named namespaces need none (kopf would list and watch
    # all namespaces, which the least-privilege RBAC does not grant). And kopf's watch of
    # CRDs drops a resource whose CRD is being deleted (its discovery then lists no patch
    # verb), so its objects, all being deleted with it, would never be let go: the CRD's
    # deletion would hang on their finalizers. The CRD is found once (_crd_served).
    settings.scanning.disabled = True
    # The start's listing in pages: kopf holds a whole page, decoded and not yet slimmed
    # (managedFields and all), until every object in it is handed on. Unpaged, 10,000 objects
    # were one response of some 300 MB decoded.
    settings.watching.chunk_size = LISTING_PAGE


def _configure_workers(settings: kopf.OperatorSettings, workers: int) -> None:
    """Threads for the passes, and how long kopf keeps an idle object's worker."""
    # boto3 is synchronous: each in-flight EKS call holds one thread (asyncio.to_thread
    # uses the loop's default executor), so the pool bounds concurrent EKS calls.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eks")
    )
    settings.execution.max_workers = workers
    # kopf keeps a worker task (and its queue) per object for this long after the object's
    # last watch event: in a burst of a thousand objects, a thousand of them. Half a second
    # still batches the events of one write; a later event starts a new worker.
    settings.queueing.idle_timeout = WORKER_IDLE_SECONDS


async def _crd_served(runtime: Runtime) -> None:
    """Start only once the CRD is there and not being deleted (kopf resolves the resource once,
    right after start-up): until then the start-up is retried, and the pod is not live."""
    state, problem = await runtime.crd.state()
    if state is CrdState.SERVING:
        return
    what = f"is {problem}" if state is CrdState.DELETING else f"could not be read ({problem})"
    raise kopf.TemporaryError(
        f"the CRD {constants.CRD_NAME} {what}: install it (the chart does; or kubectl apply "
        "--server-side -k deploy/crds/); start-up is retried",
        delay=5,
    )


def pooled(info: kopf.ConnectionInfo, connections: int) -> kopf.AiohttpSession:
    """kopf's own session for ``info``, but with at most ``connections`` connections.

    kopf's session has no limit: in a burst of a thousand objects every patch and event opens
    a TLS connection of its own (each with its buffers and OpenSSL state, tens to hundreds of
    KiB) and is freed back to the heap, not to the system. Requests beyond the limit wait for a
    free connection instead. Each watch holds one connection for as long as it runs, so the
    caller counts those in.
    """
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, ssl=info.as_ssl_context()),
        headers=info.as_http_headers(),  # the Authorization header: token or basic auth
        proxy=info.proxy_url,
        trust_env=info.trust_env,
    )
    return kopf.AiohttpSession(
        server=info.server,
        default_namespace=info.default_namespace,
        expiration=info.expiration,
        priority=info.priority,
        aiohttp_session=session,
    )
