"""Serves the Autotask sandbox over real HTTP (``onboard-bot sandbox --port N``).

Each aiohttp request is handed, as an ``httpx.Request``, to the same ``SandboxTransport`` the
in-process tests use, so both paths share one emulator.
"""

from __future__ import annotations

import httpx
from aiohttp import web

from services.autotask.sandbox import SandboxTransport

TRANSPORT = web.AppKey("transport", SandboxTransport)


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


def create_sandbox_app(transport: SandboxTransport) -> web.Application:
    app = web.Application(client_max_size=10 * 1024 * 1024)
    app[TRANSPORT] = transport
    app.router.add_route("*", "/{tail:.*}", _forward)
    return app
