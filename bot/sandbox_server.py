"""Serves the Autotask sandbox over real HTTP (``onboard-bot sandbox --port N``).

Each aiohttp request is handed, as an ``httpx.Request``, to the same ``SandboxTransport`` the
in-process tests use, so both paths share one emulator.

``/_sandbox/...`` (no Autotask URL) lets a person act inside the emulated Autotask: edit a company
as an admin would in the web UI (its company webhooks then call out), deactivate a webhook, see
what the webhooks delivered, read what the sandbox saw (``GET /_sandbox/stats``: peak calls in
flight per entity across every client, faults injected, writes; ``POST /_sandbox/stats/reset``
starts counting again). The bot's own server mounts them too when it runs the built-in
sandbox, so local mode can be walked end to end.
"""

from __future__ import annotations

import httpx
from aiohttp import web

from services.autotask.sandbox import FAULT_KINDS, Fault, RandomFaults, SandboxTransport
from services.autotask.sandbox.errors import SandboxError

TRANSPORT = web.AppKey("transport", SandboxTransport)
CONTROL = "/_sandbox"


async def _forward(request: web.Request) -> web.Response:
    transport = request.app[TRANSPORT]
    body = await request.read()
    outgoing = httpx.Request(
        request.method, str(request.url), headers=list(request.headers.items()), content=body
    )
    try:
        response = await transport.handle_async_request(outgoing)
    except httpx.TimeoutException:
        # An injected timeout: hold the connection past the client's patience would be slow in
        # tests, so answer as a gateway that gave up.
        return web.json_response({"errors": ["Gateway timeout"]}, status=504)
    await response.aread()
    headers = {
        k: v for k, v in response.headers.items() if k.lower() in ("retry-after", "content-type")
    }
    return web.Response(status=response.status_code, body=response.content, headers=headers)


async def _admin_edit(request: web.Request) -> web.Response:
    """``POST /_sandbox/companies/{id}`` ``{"changes": {...}, "resourceID": n}``: a UI save."""
    transport = request.app[TRANSPORT]
    try:
        body = await request.json()
        changes = body["changes"]
        resource = int(body.get("resourceID") or _an_admin(transport))
        transport.webhooks.admin_edit(int(request.match_info["id"]), changes, resource_id=resource)
    except SandboxError as exc:
        return web.json_response({"errors": exc.errors}, status=exc.status)
    except (ValueError, KeyError, TypeError) as exc:
        return web.json_response({"errors": [f"bad request: {exc}"]}, status=400)
    return web.json_response({"saved": True, "by": resource})


async def _deactivate(request: web.Request) -> web.Response:
    transport = request.app[TRANSPORT]
    try:
        transport.webhooks.deactivate(int(request.match_info["id"]))
    except SandboxError as exc:
        return web.json_response({"errors": exc.errors}, status=exc.status)
    return web.json_response({"deactivated": True})


async def _deliveries(request: web.Request) -> web.Response:
    return web.json_response([
        {"kind": d.kind, "url": d.url, "attempts": d.attempts, "payload": d.payload}
        for d in request.app[TRANSPORT].webhooks.deliveries
    ])  # fmt: skip


async def _faults(request: web.Request) -> web.Response:
    """``POST /_sandbox/faults`` ``{"status": 500, "errors": [], "after_write": true,
    "method": "POST", "entity": "CompanyTeams", "count": 3}``: the next matching calls fail (a
    lost answer when ``after_write``), to watch a run heal over real HTTP. ``{"rate": 0.1,
    "seed": 7}`` makes about that share of every call fail from now on, each as one of the
    sandbox's ``FAULT_KINDS`` (``{"rate": 0}`` stops it)."""
    try:
        body = await request.json()
        if "rate" in body:
            return _random_faults(request.app[TRANSPORT], float(body["rate"]),
                                  int(body.get("seed", 7)))  # fmt: skip
        count = int(body.pop("count", 1))
        fault = Fault(**body)
    except (ValueError, TypeError) as exc:
        return web.json_response({"errors": [f"bad request: {exc}"]}, status=400)
    request.app[TRANSPORT].fail_next(fault, count=count)
    return web.json_response({"queued": count})


def _random_faults(transport: SandboxTransport, rate: float, seed: int) -> web.Response:
    if not 0 <= rate <= 1:
        return web.json_response({"errors": ["bad request: rate is between 0 and 1"]}, status=400)
    transport.random_faults = RandomFaults(rate, seed) if rate else None
    return web.json_response({"rate": rate, "kinds": list(FAULT_KINDS)})


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[TRANSPORT].stats())


async def _reset_stats(request: web.Request) -> web.Response:
    request.app[TRANSPORT].reset_log()
    return web.json_response({"reset": True})


def _an_admin(transport: SandboxTransport) -> int:
    """Someone who may log in to the web UI, when the caller names nobody."""
    resources = transport.tenant.table("Resources")
    api_users = {u.resource_id for u in transport.tenant.api_users.values()}
    return next(i for i, r in sorted(resources.items()) if r.get("isActive") and i not in api_users)


def add_control_routes(app: web.Application, transport: SandboxTransport) -> None:
    app[TRANSPORT] = transport
    app.router.add_post(CONTROL + "/companies/{id:\\d+}", _admin_edit)
    app.router.add_post(CONTROL + "/webhooks/{id:\\d+}/deactivate", _deactivate)
    app.router.add_get(CONTROL + "/deliveries", _deliveries)
    app.router.add_post(CONTROL + "/faults", _faults)
    app.router.add_get(CONTROL + "/stats", _stats)
    app.router.add_post(CONTROL + "/stats/reset", _reset_stats)


def create_sandbox_app(transport: SandboxTransport) -> web.Application:
    app = web.Application(client_max_size=10 * 1024 * 1024)
    add_control_routes(app, transport)
    app.router.add_route("*", "/{tail:.*}", _forward)
    return app
