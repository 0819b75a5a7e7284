"""Builds the Bolt ``AsyncApp`` (HTTP on /slack/events, or Socket Mode) and registers listeners."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers.slack
from bot.container import Container
from bot.settings import Settings
from handlers.slack.deps import SlackDeps
from handlers.slack.reminders import SlackNotifier
from services.directory import Directory
from services.reminders.policy import BusinessHours
from services.reminders.service import Reminders

logger = logging.getLogger(__name__)


def web_client(settings: Settings) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def build_app(container: Container) -> AsyncApp:
    settings = container.settings
    assert settings.slack_signing_secret is not None
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=web_client(settings),
    )

    @app.middleware
    async def skip_slack_retries(req: Any, resp: Any, next: Any) -> Any:
        """Slack re-sends a request it thinks timed out; the first delivery is already handled."""
        if req.headers.get("x-slack-retry-num"):
            logger.info("ignoring Slack retry %s", req.headers.get("x-slack-retry-num"))
            return BoltResponse(status=200, body="")
        return await next()

    container.reminders = Reminders(
        client=container.autotask,
        reference=container.reference,
        db=container.db,
        notifier=SlackNotifier(app.client),
        hours=BusinessHours.parse(settings.reminder_hours, settings.reminder_weekdays,
                                  settings.reminder_interval_hours, settings.reminder_default_tz),
        escalate_after=settings.reminder_escalate_after,
        escalation_channel=settings.reminder_escalation_channel,
        required=settings.reminder_items,
        default_admins=settings.billing_admins,
    )  # fmt: skip
    deps = SlackDeps(
        runner=container.runner,
        options=container.options,
        db=container.db,
        directory=Directory(container.reference, settings.onboarders),
        reminders=container.reminders,
    )
    handlers.slack.register(app, deps)
    return app


def events_route(app: AsyncApp) -> Any:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    return slack_events
