"""The one aiohttp web server of the process: health, chat platforms, Autotask's webhook calls."""

from __future__ import annotations

from aiohttp import web

from bot.container import Container
from services.store.engine import ping

CONTAINER = web.AppKey("container", Container)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers and the Autotask zone is known (no Autotask call per probe)."""
    container = request.app[CONTAINER]
    problems: dict[str, str] = {}
    try:
        await ping(container.engine)
    except Exception as exc:
        problems["database"] = type(exc).__name__
    try:
        await container.autotask.zone()
    except Exception as exc:
        problems["autotask"] = type(exc).__name__
    status = 503 if problems else 200
    return web.json_response(
        {"status": "ready" if not problems else "not ready", **problems}, status=status
    )


def create_app(container: Container) -> web.Application:
    app = web.Application()
    app[CONTAINER] = container
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if container.settings.slack_mode == "http":
        from bot.slack import build_app, events_route

        app.router.add_post("/slack/events", events_route(build_app(container)))
    if container.callbacks is not None:
        from bot.webhooks import add_routes

        add_routes(app, container.callbacks)
    if container.sandbox is not None:  # the built-in sandbox: act in it as an Autotask admin
        from bot.sandbox_server import add_control_routes

        add_control_routes(app, container.sandbox)
    return app
