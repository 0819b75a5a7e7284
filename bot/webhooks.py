"""The two URLs Autotask calls for the company webhook, on the bot's aiohttp server.

Only transport here: the body is read with a size cap (never past it), handed as raw bytes with
``X-Hook-Signature`` to ``services.reminders.callbacks``, and its verdict is the answer. The
readiness check that a callout may lead to runs after the answer has gone back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from services.reminders.callbacks import MAX_BODY, CallbackReceiver, Verdict
from services.reminders.webhooks import CALLBACK_PATH, DEACTIVATION_PATH

logger = logging.getLogger(__name__)
SIGNATURE = "X-Hook-Signature"
Handler = Callable[[web.Request], Awaitable[web.Response]]


async def _body(request: web.Request) -> bytes | None:
    """The raw body, or ``None`` as soon as it passes ``MAX_BODY``."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _route(decide: Callable[[bytes, str | None], Verdict]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        body = await _body(request)
        verdict = (
            Verdict(413, "too large")
            if body is None
            else decide(body, request.headers.get(SIGNATURE))
        )
        return web.json_response({"status": verdict.reason}, status=verdict.status)

    return handle


def add_routes(app: web.Application, receiver: CallbackReceiver) -> None:
    app.router.add_post(CALLBACK_PATH, _route(receiver.receive))
    app.router.add_post(DEACTIVATION_PATH, _route(receiver.deactivated))
