"""The one answer to a modal submission: in the ack while Slack waits for it, by ``views.update``
after that (a "Checking your answers..." ack when the budget ran out, or "started" on Apply)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps, received_at
from handlers.slack.metadata import ViewMeta
from handlers.slack.views import loading_view, message_view
from services.i18n import Translator
from services.onboarding.outcomes import Deadline

SLOW = {"checking": "slack.checking", "planning": "slack.planning", "loading": "slack.loading"}


class Reply:
    def __init__(self, ack: AsyncAck, client: AsyncWebClient, view_id: str, meta: ViewMeta,
                 t: Translator, budget: float) -> None:  # fmt: skip
        self.ack, self.client, self.view_id, self.meta, self.t = ack, client, view_id, meta, t
        self.deadline = Deadline(budget, self.slow)  # from the request on, not the use case
        self.acked = False

    @classmethod
    async def to(
        cls, deps: SlackDeps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
        client: AsyncWebClient, context: Mapping[str, Any],
    ) -> Reply | None:  # fmt: skip
        """The reply to this submission, in the sender's language (not the form's); ``None``,
        acked, when the modal is not one of ours. The budget runs from the request's arrival."""
        started = received_at(context)
        meta = ViewMeta.load(view.get("private_metadata"))
        if meta is None:
            await ack()
            return None
        user_id = body["user"]["id"]
        lookup = asyncio.ensure_future(deps.user(client, user_id))  # users.info counts too
        await asyncio.wait({lookup}, timeout=deps.left(started))
        if lookup.done():
            return cls(ack, client, view["id"], meta, Translator(lookup.result().locale),
                       deps.left(started))  # fmt: skip
        # Slack is slow to say who this is: "Checking your answers..." now, in the language we
        # knew them in (else English), and the answer after it in theirs.
        first = cls(
            ack, client, view["id"], meta, Translator(deps.known_locale(user_id) or "en"), 0
        )
        await first.slow("checking")
        reply = cls(ack, client, view["id"], meta, Translator((await lookup).locale), 0)
        reply.acked = reply.deadline.slow = True
        return reply

    def left(self) -> float:
        return max(0.0, self.deadline.ends - time.monotonic())

    async def slow(self, doing: str) -> None:
        """Called once, by whichever deadline runs out first (ours, or the use case's)."""
        await self.show(loading_view(self.t, SLOW[doing], self.meta))

    async def show(self, view: View) -> None:
        if self.acked:
            await self.client.views_update(view_id=self.view_id, view=view)
            return
        self.acked = True
        await self.ack(response_action="update", view=view)

    async def say(self, text: str) -> None:
        await self.show(message_view(self.t, text))

    async def errors(self, errors: dict[str, str]) -> None:
        """Errors beside the inputs: only while Slack waits for the ack."""
        self.acked = True
        await self.ack(response_action="errors", errors=errors)
