"""Typeahead for the form's external selects, answered from cache within Slack's 3 seconds."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps, received_at
from handlers.slack.metadata import ViewMeta
from handlers.slack.mrkdwn import cut
from services.autotask.errors import AutotaskError
from services.onboarding.options import Option

logger = logging.getLogger(__name__)

MAX_OPTIONS = 100


def register(app: Any, deps: SlackDeps) -> None:
    async def suggest(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        started = received_at(context)
        path = str(body.get("action_id", ""))
        meta = ViewMeta.load((body.get("view") or {}).get("private_metadata"))
        user_id = str((body.get("user") or {}).get("id"))
        if meta is None:
            await ack(options=[])
            return
        query = str(body.get("value") or "")
        if path == "company" and not query and meta.company_query:
            query = meta.company_query  # opened without typing: the organizations /onboard named

        async def lookup() -> list[Option]:
            # Only the person filling the form searches Autotask through it (else: nothing).
            actor = await deps.actor(client, user_id)
            return await deps.service.suggest(
                actor, meta.draft_id, path, query, budget=deps.left(started)
            )

        # The whole answer (who is asking included) fits the budget: past it, nothing this time
        # (the next keystroke asks again); the look-up is not cancelled, so its caches still fill.
        found: list[Option] = []
        task = asyncio.ensure_future(lookup())
        task.add_done_callback(_quiet)
        done, _ = await asyncio.wait({task}, timeout=deps.left(started))
        if task in done and task.exception() is None:
            found = task.result()
        await ack(
            options=[
                {"text": {"type": "plain_text", "text": cut(o.label, 75)}, "value": str(o.value)}
                for o in found[:MAX_OPTIONS]
            ]
        )

    app.options(re.compile(r".+"))(suggest)


def _quiet(task: asyncio.Task[list[Option]]) -> None:
    """Who may onboard could not be looked up: nothing to offer yet (an Autotask failure);
    anything else is a bug and is logged."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, AutotaskError):
        logger.error("typeahead failed", exc_info=exc)
