"""kopf's API session, with a bounded connection pool."""

from __future__ import annotations

import kopf

from eks_oidc_operator.handlers.lifecycle import pooled


async def test_the_api_session_keeps_kopfs_credentials_and_bounds_its_connections() -> None:
    info = kopf.ConnectionInfo(
        server="https://127.0.0.1:6443", token="t0ken", default_namespace="ops", insecure=True
    )
    context = pooled(info, 36)
    try:
        assert context.server == "https://127.0.0.1:6443"
        assert context.default_namespace == "ops"
        session = context.aiohttp_session
        assert session.connector is not None
        assert session.connector.limit == 36
        assert session.headers["Authorization"] == "Bearer t0ken"
    finally:
        await context.aiohttp_session.close()
