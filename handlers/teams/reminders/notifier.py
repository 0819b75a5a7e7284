"""The reminders' ``Notifier`` for Teams: proactive cards in the person's personal chat with the
bot, updated in place when their state changes.

People are found by the e-mail stored with their personal chat's conversation reference (kept at
install or first use, ``handlers/teams/references.py``): a billing administrator who never
installed or opened the app cannot be reached in Teams, and the router tries Slack instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from handlers.teams.cards import card, text
from handlers.teams.proactive import TeamsSender, card_message
from handlers.teams.references import PLATFORM
from handlers.teams.reminders.cards import reminder_card, summary
from services.conversations import Conversation, Conversations
from services.i18n import Translator
from services.reminders.notifier import ChatUser, ReminderCard, UnreachableError

logger = logging.getLogger(__name__)
USER_PARAMS = ("admin",)  # parameters the reminders service fills with a chat user id


class TeamsUnreachableError(UnreachableError):
    """The person has no personal chat with the bot (never installed it, or removed it)."""


class TeamsNotifier:
    def __init__(self, sender: TeamsSender, conversations: Conversations) -> None:
        self.sender = sender
        self.conversations = conversations

    async def find_user(self, email: str) -> ChatUser | None:
        found = await self.conversations.personal_by_email(platform=PLATFORM, email=email)
        if found is None or not found.user_id:
            return None
        return ChatUser(found.user_id, found.tz, found.locale or "en-US")

    async def _personal(self, user_id: str) -> Conversation | None:
        return await self.conversations.personal(
            platform=PLATFORM, user_id=user_id, directory_id=user_id
        )

    async def _name(self, user_id: str) -> str:
        """How a Teams user is shown in a card: their e-mail (Teams cards cannot mention)."""
        found = await self._personal(user_id)
        return found.email if found and found.email else user_id

    async def _activity(self, reminder: ReminderCard, locale: str, tz: str | None) -> Any:
        t = Translator(locale)
        handed = (
            await self._name(reminder.handed_to) if reminder.handed_to else reminder.handed_to_email
        )
        content = reminder_card(reminder, t, tz=tz, handed_to=handed)
        return card_message(content, summary(reminder, t))

    async def send_card(
        self, to: str, activity: Callable[[str | None], Awaitable[Any]]
    ) -> dict[str, Any]:
        """Send the card ``activity(tz)`` builds (in the recipient's time zone) to their personal
        chat; where it is, to update it in place."""
        chat = await self._personal(to)
        if chat is None:
            raise TeamsUnreachableError("the recipient has no personal chat with the bot")
        sent = await self.sender.send(chat, await activity(chat.tz))
        return {"conversation": chat.conversation_id, "id": sent}

    async def update_card(
        self, ref: dict[str, Any], activity: Callable[[str | None], Awaitable[Any]]
    ) -> None:
        chat = await self.conversations.get(platform=PLATFORM, conversation_id=ref["conversation"])
        if chat is None or chat.removed:
            logger.info("card not updated: the app was removed from that chat")
            return
        await self.sender.update(chat, str(ref["id"]), await activity(chat.tz))

    async def send_reminder(self, to: str, card: ReminderCard, locale: str) -> dict[str, Any]:
        return await self.send_card(to, lambda tz: self._activity(card, locale, tz))

    async def update_reminder(self, ref: dict[str, Any], card: ReminderCard, locale: str) -> None:
        await self.update_card(ref, lambda tz: self._activity(card, locale, tz))

    async def _say(self, chat: Conversation, message: str) -> None:
        await self.sender.send(chat, card_message(card([text(message)]), message))

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        chat = await self._personal(to)
        if chat is None:
            logger.warning("Teams user has no personal chat with the bot; message %s not sent", key)
            return
        t = Translator(locale or chat.locale)
        await self._say(chat, t(key, **await self._shown(params, t)))

    async def post_channel(self, channel: str, key: str, **params: Any) -> None:
        chat = await self.conversations.get(platform=PLATFORM, conversation_id=channel)
        if chat is None or chat.removed:
            logger.warning("the app is not in Teams conversation %s; message %s not sent",
                           channel, key)  # fmt: skip
            return
        t = Translator(chat.locale or "en")
        await self._say(chat, t(key, **await self._shown(params, t)))

    async def _shown(self, params: dict[str, Any], t: Translator) -> dict[str, Any]:
        out = dict(params)
        for key in USER_PARAMS:  # a person on another platform comes by name (the router's)
            named = out.pop(f"{key}_name", None)
            if named:
                out[key] = named
            elif params.get(key):
                out[key] = await self._name(str(params[key]))
        if isinstance(params.get("missing"), list):
            out["missing"] = ", ".join(t(f"missing.{m}") for m in params["missing"])
        return out
