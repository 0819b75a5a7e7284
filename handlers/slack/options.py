"""Typeahead for external selects, answered from cache within Slack's 3 seconds."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from handlers.slack import flow
from handlers.slack.deps import SlackDeps
from handlers.slack.metadata import ViewMeta
from handlers.slack.text import cut
from services.onboarding import form
from services.store import repositories as repo


def register(app: Any, deps: SlackDeps) -> None:
    async def suggest(ack: AsyncAck, body: dict[str, Any]) -> None:
        question = form.QUESTIONS.get(str(body.get("action_id", "")).split(".")[0])
        meta = ViewMeta.load((body.get("view") or {}).get("private_metadata"))
        if question is None or question.source is None or meta is None:
            await ack(options=[])
            return
        async with deps.db.transaction() as session:
            draft = await repo.get_draft(session, draft_id=meta.draft_id)
        if draft is None or not flow.owns(draft, str((body.get("user") or {}).get("id"))):
            await ack(options=[])  # only the person filling the form searches Autotask through it
            return
        answers = dict(draft.answers)
        query = str(body.get("value") or "")
        if question.id == "company" and not query and meta.company_query:
            query = meta.company_query  # opened without typing: the organizations /onboard named
        load = asyncio.ensure_future(deps.options.options(question.source, answers, query))
        try:
            found = await asyncio.wait_for(asyncio.shield(load), deps.ack_budget)
        except TimeoutError:
            found = []  # the list keeps loading into the cache; the next keystroke gets it
        await ack(
            options=[
                {"text": {"type": "plain_text", "text": cut(o.label, 75)}, "value": str(o.value)}
                for o in found[:100]
            ]
        )

    app.options(re.compile(r".+"))(suggest)
