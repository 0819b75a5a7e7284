"""Typeahead for the form's external selects, answered from cache within Slack's 3 seconds."""

from __future__ import annotations

import re
import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.metadata import ViewMeta
from handlers.slack.mrkdwn import cut
from services.autotask.errors import AutotaskError

MAX_OPTIONS = 100


def register(app: Any, deps: SlackDeps) -> None:
    async def suggest(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        started = time.monotonic()
        path = str(body.get("action_id", ""))
        meta = ViewMeta.load((body.get("view") or {}).get("private_metadata"))
        user_id = str((body.get("user") or {}).get("id"))
        if meta is None:
            await ack(options=[])
            return
        query = str(body.get("value") or "")
        if path == "company" and not query and meta.company_query:
            query = meta.company_query  # opened without typing: the organizations /onboard named
        try:
            # Only the person filling the form searches Autotask through it (else: nothing).
            actor = await deps.actor(client, user_id)
            budget = max(0.0, deps.ack_budget - (time.monotonic() - started))
            found = await deps.service.suggest(actor, meta.draft_id, path, query, budget=budget)
        except AutotaskError:  # who may onboard could not be looked up: nothing to offer yet
            found = []
        await ack(
            options=[
                {"text": {"type": "plain_text", "text": cut(o.label, 75)}, "value": str(o.value)}
                for o in found[:MAX_OPTIONS]
            ]
        )

    app.options(re.compile(r".+"))(suggest)
