"""The one aiohttp web server of the process: health, chat platforms, Autotask's webhook calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.container import Container
from services.store.engine import ping

logger = logging.getLogger(__name__)

CONTAINER = web.AppKey("container", Container)
DATABASE_TIMEOUT = 3.0  # a probe must answer before the load balancer's own timeout
AUTOTASK_RECHECK = 5.0  # while Autotask looks unreachable, one real call at most this often
HEALTH_ROUTES = ("/healthz", "/readyz")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers (draining or not, whatever Autotask and the database do)."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: not draining, the database answers, and Autotask's last calls went through.

    Autotask is judged from the calls the process makes anyway (no call per probe); while it
    looks unreachable, a probe starts one background call at most every ``AUTOTASK_RECHECK``
    seconds, so the replica comes back on its own once Autotask does.
    """
    container = request.app[CONTAINER]
    problems: dict[str, str | bool] = {}
    if container.drain.draining:
        problems["draining"] = True
    try:
        await asyncio.wait_for(ping(container.engine), DATABASE_TIMEOUT)
    except Exception as exc:
        problems["database"] = type(exc).__name__
    verdict = container.autotask.reachability.verdict()
    if not verdict.reachable:
        problems["autotask"] = verdict.detail
        request.app[RECHECK].start(container)
    status = 503 if problems else 200
    return web.json_response(
        {"status": "not ready" if problems else "ready", **problems}, status=status
    )


class _Recheck:
    """At most one background Autotask call at a time, and none sooner than AUTOTASK_RECHECK."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None

    def start(self, container: Container) -> None:
        if self.task is not None and not self.task.done():
            return
        if container.autotask.reachability.idle_for() < AUTOTASK_RECHECK:
            return
        if container.drain.draining:
            return
        self.task = asyncio.ensure_future(self._probe(container))

    @staticmethod
    async def _probe(container: Container) -> None:
        try:
            await container.autotask.read_threshold()  # the cheapest call; records its outcome
        except Exception as exc:
            logger.info("Autotask still unreachable: %s", type(exc).__name__)


RECHECK = web.AppKey("autotask_recheck", _Recheck)


@web.middleware
async def refuse_while_draining(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A draining replica takes no new work: 503 before anything is done, so a proxy may safely
    send the request to another replica (nginx ``proxy_next_upstream http_503 non_idempotent``)."""
    if request.app[CONTAINER].drain.draining and request.path not in HEALTH_ROUTES:
        return web.json_response(
            {"status": "draining"}, status=503, headers={"Retry-After": "1", "Connection": "close"}
        )
    return await handler(request)


def create_app(container: Container) -> web.Application:
    app = web.Application(middlewares=[refuse_while_draining])
    app[CONTAINER] = container
    app[RECHECK] = _Recheck()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if container.settings.slack_mode == "http":
        from bot.slack import build_app, events_route

        app.router.add_post("/slack/events", events_route(build_app(container), container.drain))
    if container.settings.teams_mode != "off":
        from bot.teams import build_teams, mount

        mount(app, build_teams(container))
    if container.callbacks is not None:
        from bot.webhooks import add_routes

        add_routes(app, container.callbacks)
    if container.sandbox is not None:  # the built-in sandbox: act in it as an Autotask admin
        from bot.sandbox_server import add_control_routes

        add_control_routes(app, container.sandbox)
    return app
