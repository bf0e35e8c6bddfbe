"""The aiohttp application: STS on ``POST /``, EKS on every other path, and ``/_sim/*``.

Thin adapter only: it converts aiohttp requests to the framework-free calls of
:class:`~eks_simulator.service.Simulator` and back. Control routes and STS's route are
registered before the catch-all EKS route, and aiohttp matches routes in registration order.
STS and EKS never compete for a request: STS's query protocol always posts to ``/`` (the
operation is the form's ``Action``), and no operation of EKS's model has the URI ``/`` (each
names a resource: ``/clusters/...``, ``/tags/...``), so ``POST /`` was an unknown EKS route.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from eks_simulator.config import ConfigPatch
from eks_simulator.errors import EksError
from eks_simulator.service import Simulator

SIMULATOR_KEY = web.AppKey("simulator", Simulator)


def _sim(request: web.Request) -> Simulator:
    return request.app[SIMULATOR_KEY]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as error:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"invalid JSON: {error}"}), content_type="application/json"
        ) from error


@web.middleware
async def _control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Control-API input errors become 400 JSON instead of 500 (EKS calls never raise)."""
    try:
        response: web.StreamResponse = await handler(request)
    except ValidationError as error:
        return _json({"error": error.errors(include_url=False, include_context=False)}, 400)
    except (KeyError, TypeError, ValueError) as error:
        return _json({"error": f"bad request: {error!r}"}, 400)
    except EksError as error:
        return _json({"error": error.code, "message": error.message}, 400)
    return response


async def eks_api(request: web.Request) -> web.Response:
    """Any EKS REST-JSON call (with ``fetchIssuers``, an Associate answers after the fetch)."""
    query = request.query
    body = await request.read()
    response = await _sim(request).serve_eks(
        request.method,
        request.rel_url.raw_path,
        {key: query.getall(key) for key in query},
        body,
        request.headers,
    )
    return web.Response(status=response.status, body=response.body, headers=response.headers)


async def sts_api(request: web.Request) -> web.Response:
    """Any STS query-protocol call (``POST /`` with a form body)."""
    response = _sim(request).handle_sts(await request.read(), request.headers)
    return web.Response(status=response.status, body=response.body, headers=response.headers)


async def health(_request: web.Request) -> web.Response:
    """Liveness: ``{"ok": true}``."""
    return _json({"ok": True})


async def advance(request: web.Request) -> web.Response:
    """``POST /_sim/advance {"seconds": N}`` (or ``?seconds=N``): move the clock."""
    body = await _body(request)
    seconds = float(body.get("seconds", request.query.get("seconds", 0)))
    return _json({"now": _sim(request).advance(seconds)})


async def clock(request: web.Request) -> web.Response:
    """``GET /_sim/clock``: the simulated time."""
    sim = _sim(request)
    return _json({"now": sim.clock.now(), "manual": sim.clock.manual})


async def stats(request: web.Request) -> web.Response:
    """``GET /_sim/stats``: calls per operation and HTTP status."""
    return _json(_sim(request).stats.as_json())


async def stats_reset(request: web.Request) -> web.Response:
    """``POST /_sim/stats/reset``."""
    _sim(request).stats.reset()
    return _json({"ok": True})


async def requests(request: web.Request) -> web.Response:
    """``GET /_sim/requests[?operation=Name]``: the recent-call journal."""
    wanted = request.query.get("operation")
    calls = [
        call.model_dump()
        for call in _sim(request).stats.journal
        if wanted is None or call.operation == wanted
    ]
    return _json({"requests": calls})


async def faults_get(request: web.Request) -> web.Response:
    """``GET /_sim/faults``."""
    return _json(_sim(request).describe_faults())


async def faults_add(request: web.Request) -> web.Response:
    """``POST /_sim/faults``: one fault object, a list, or ``{"faults": [...]}``."""
    body = await _body(request)
    specs = body.get("faults", [body]) if isinstance(body, dict) else body
    sim = _sim(request)
    return _json({"added": [sim.add_fault(spec) for spec in specs]})


async def faults_clear(request: web.Request) -> web.Response:
    """``DELETE /_sim/faults``."""
    _sim(request).clear_faults()
    return _json({"ok": True})


async def config_get(request: web.Request) -> web.Response:
    """``GET /_sim/config``."""
    return _json(_sim(request).state.config.model_dump(mode="json", by_alias=True))


async def config_set(request: web.Request) -> web.Response:
    """``POST /_sim/config``: durations (global or per cluster) and limits."""
    patch = ConfigPatch.model_validate(await _body(request))
    return _json(_sim(request).configure(patch).model_dump(mode="json", by_alias=True))


async def cluster_create(request: web.Request) -> web.Response:
    """``POST /_sim/clusters {"name", "version"?, "status"?, "tags"?}``."""
    body = await _body(request)
    cluster = _sim(request).create_cluster(
        str(body["name"]),
        version=body.get("version"),
        status=body.get("status", "ACTIVE"),
        tags=body.get("tags"),
    )
    return _json({"cluster": cluster})


async def cluster_delete(request: web.Request) -> web.Response:
    """``DELETE /_sim/clusters/{name}``: remove at once (404 if absent)."""
    existed = _sim(request).delete_cluster(request.match_info["name"])
    return _json({"deleted": existed}, 200 if existed else 404)


async def state(request: web.Request) -> web.Response:
    """``GET /_sim/state``: the full internal state as of now (transitions that fell due since
    the last call applied first, as any EKS call would), without counting as an EKS call: what
    a test samples to see the cluster as its users would."""
    sim = _sim(request)
    sim.state.tick(sim.clock.now())
    return _json(sim.state.snapshot().model_dump(mode="json"))


async def reset(request: web.Request) -> web.Response:
    """``POST /_sim/reset``: forget resources, faults, counters and config changes."""
    _sim(request).reset()
    return _json({"ok": True})


def build_app(simulator: Simulator) -> web.Application:
    """The web application serving ``simulator``."""
    app = web.Application(middlewares=[_control_errors], client_max_size=2 * 1024 * 1024)
    app[SIMULATOR_KEY] = simulator
    app.router.add_get("/_sim/health", health)
    app.router.add_post("/_sim/advance", advance)
    app.router.add_get("/_sim/clock", clock)
    app.router.add_get("/_sim/stats", stats)
    app.router.add_post("/_sim/stats/reset", stats_reset)
    app.router.add_get("/_sim/requests", requests)
    app.router.add_get("/_sim/faults", faults_get)
    app.router.add_post("/_sim/faults", faults_add)
    app.router.add_delete("/_sim/faults", faults_clear)
    app.router.add_get("/_sim/config", config_get)
    app.router.add_post("/_sim/config", config_set)
    app.router.add_post("/_sim/clusters", cluster_create)
    app.router.add_delete("/_sim/clusters/{name}", cluster_delete)
    app.router.add_get("/_sim/state", state)
    app.router.add_post("/_sim/reset", reset)
    app.router.add_post("/", sts_api)
    app.router.add_route("*", "/{tail:.*}", eks_api)
    return app
