"""Messages nobody asked for yet (progress, reminders): into a stored conversation, or updated there.

Each call is a proactive turn (``continue_conversation``) on the stored reference. With Entra
credentials the turn carries the bot's own claims, so the SDK fetches a token for the Bot
Connector; in anonymous local mode it carries none and the connector is called without a token.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from microsoft_agents.hosting.core import ChannelServiceAdapter, ClaimsIdentity, TurnContext

from handlers.teams.cards import attachment
from handlers.teams.people import CONNECTOR
from handlers.teams.references import PLATFORM, reference_of
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

    async def open_personal(
        self, via: Conversation, user_id: str, locale: str | None = None
    ) -> Conversation:
        """Open (or find: Teams answers with the existing one) the bot's personal chat with
        ``user_id``, a member of ``via``'s tenant, as ``POST v3/conversations`` does; what to
        store about it. Raises when Teams refuses (the app is not installed for that person
        and cannot be, the person left the tenant)."""
        found: list[Conversation] = []
        refused: list[Exception] = []
        base = reference_of(via)
        tenant = via.tenant_id or (base.conversation.tenant_id if base.conversation else None)

        async def create(context: TurnContext) -> None:
            client = context.services.get(CONNECTOR)
            if client is None:
                refused.append(RuntimeError("the proactive turn has no connector client"))
                return
            parameters = ConversationParameters(
                is_group=False,
                agent=base.agent,
                members=[ChannelAccount(id=user_id)],
                tenant_id=tenant,
                channel_data={"tenant": {"id": tenant}} if tenant else None,
            )
            try:
                created = await client.conversations.create_conversation(parameters)
            except Exception as exc:  # raised after the turn, not as a failed turn
                refused.append(exc)
                return
            reference = base.model_copy(deep=True)
            reference.activity_id = None
            reference.user = ChannelAccount(id=user_id)
            reference.conversation = ConversationAccount(
                id=created.id, conversation_type="personal", tenant_id=tenant
            )
            if created.service_url:
                reference.service_url = created.service_url
            found.append(
                Conversation(
                    platform=PLATFORM,
                    conversation_id=str(created.id),
                    kind="personal",
                    reference=reference.model_dump(mode="json", by_alias=True, exclude_none=True),
                    user_id=user_id,
                    tenant_id=tenant,
                    locale=locale,
                )
            )

        await self._turn(via, create)
        if refused:
            raise refused[0]
        if not found or not found[0].conversation_id:
            raise RuntimeError("Teams created no personal chat")
        return found[0]
