"""Builds the Bolt ``AsyncApp`` (HTTP on /slack/events, or Socket Mode) and registers listeners."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

import handlers.slack
from bot.chat import web_client
from bot.container import Container
from bot.drain import Drain
from bot.slack_deliveries import SlackApp
from handlers.slack.deps import RECEIVED_AT, SlackDeps

logger = logging.getLogger(__name__)


class _Without(logging.Filter):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


@contextmanager
def _no_token_warning() -> Iterator[None]:
    """``AsyncApp(client=...)`` reads SLACK_BOT_TOKEN from the environment anyway and warns that
    it goes unused: it is the very token the client was built with, so the warning says nothing."""
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    quiet = _Without(warning_client_prioritized_and_token_skipped())
    bolt.addFilter(quiet)
    try:
        yield
    finally:
        bolt.removeFilter(quiet)


def build_app(container: Container) -> SlackApp:
    settings = container.settings
    assert settings.slack_signing_secret is not None
    with _no_token_warning():
        app = SlackApp(
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            client=container.slack or web_client(settings),
        )
    handlers.slack.register(app, SlackDeps(service=container.onboarding,
                                           reminders=container.reminders,
                                           devices=container.devices))  # fmt: skip
    return app


TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds, as Slack signs them


def _unreadable(request: web.Request, reason: str) -> web.Response:
    """What Slack never sends: refused before Bolt, without a traceback (Bolt's verifier calls
    ``int()`` on the timestamp and answers 500 when it is not a number)."""
    logger.warning("refused a request on %s: %s", request.path, reason)
    return web.json_response({"error": "invalid request"}, status=401)


def events_route(app: SlackApp, drain: Drain) -> Any:
    async def slack_events(request: web.Request) -> web.Response:
        received = time.monotonic()  # Slack's 3 seconds run from here, not from the listener
        if not TIMESTAMP.fullmatch(request.headers.get("X-Slack-Request-Timestamp", "")):
            return _unreadable(request, "no readable X-Slack-Request-Timestamp")
        try:
            body = await request.text()
        except UnicodeDecodeError:
            return _unreadable(request, "a body that is not UTF-8")
        if app.verifier is not None and not app.verifier.is_valid_request(
            body, dict(request.headers)
        ):
            return _unreadable(request, "a bad or stale signature")
        try:  # Bolt reads the user, team and channel out of the payload as it builds the request
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string,
                                            headers=dict(request.headers),
                                            context={RECEIVED_AT: received})  # fmt: skip
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            logger.warning(
                "refused a signed Slack request Bolt cannot read: %s", type(exc).__name__
            )
            return web.json_response({"error": "malformed payload"}, status=400)
        # Listeners run on as tasks after their ack; started in here, a shutdown waits for them.
        with drain.work():
            bolt_response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return slack_events


class SocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, with each request (and its listeners' tasks) counted as work
    a graceful shutdown waits for."""

    def __init__(self, app: AsyncApp, app_token: str, drain: Drain) -> None:
        self._drain = drain
        super().__init__(app, app_token)

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]  # narrowed exactly as Bolt's own handler narrows it
        with self._drain.work():
            await super().handle(client, req)
