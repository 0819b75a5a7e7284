"""Messages nobody asked for yet (progress, reminders): into a stored conversation, or updated there.

Each call is a proactive turn (``continue_conversation``) on the stored reference. With Entra
credentials the turn carries the bot's own claims, so the SDK fetches a token for the Bot
Connector; in anonymous local mode it carries none and the connector is called without a token.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import ChannelServiceAdapter, ClaimsIdentity, TurnContext

from handlers.teams.cards import attachment
from handlers.teams.references import reference_of
from services.conversations import Conversation


def card_message(card: dict[str, Any], summary: str) -> Activity:
    """A message holding one Adaptive Card; ``summary`` is what notifications and screen readers
    show (Teams uses the text when a card cannot be previewed)."""
    return Activity(type=ActivityTypes.message, summary=summary, attachments=[attachment(card)])


class TeamsSender:
    def __init__(self, adapter: ChannelServiceAdapter, app_id: str | None) -> None:
        self.adapter = adapter
        self.app_id = app_id

    def _claims(self) -> ClaimsIdentity:
        if self.app_id:
            return self.adapter.create_claims_identity(self.app_id)
        return ClaimsIdentity()  # anonymous: the SDK sends no token

    async def _turn(self, conversation: Conversation, work: Any) -> None:
        continuation = reference_of(conversation).get_continuation_activity()
        # The continuation's made-up id would turn the send into a reply to a message that does
        # not exist; without it the SDK posts a new message into the conversation.
        continuation.id = None
        await self.adapter.continue_conversation_with_claims(self._claims(), continuation, work)

    async def send(self, conversation: Conversation, activity: Activity) -> str:
        """Post ``activity`` into the conversation; the id Teams gave it (to update it later)."""
        sent: list[str] = []

        async def post(context: TurnContext) -> None:
            response = await context.send_activity(activity)
            sent.append(response.id if response and response.id else "")

        await self._turn(conversation, post)
        return sent[0] if sent else ""

    async def update(
        self, conversation: Conversation, activity_id: str, activity: Activity
    ) -> None:
        """Replace a message the bot sent before (a progress card, a reminder), in place."""

        async def replace(context: TurnContext) -> None:
            activity.id = activity_id
            await context.update_activity(activity)

        await self._turn(conversation, replace)
