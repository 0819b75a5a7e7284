"""The device follow-up's ``DeviceNotifier`` for Teams: the offer as a proactive card in the
person's personal chat with the bot, updated in place as it is attached, snoozed or ended.

People are found as the reminders find them (the e-mail stored with their personal chat's
conversation reference); someone who never opened the app cannot be reached in Teams, and the
router tries the next platform.
"""

from __future__ import annotations

import logging
from typing import Any

from handlers.teams.devices.cards import device_card, summary
from handlers.teams.proactive import TeamsSender, card_message
from handlers.teams.references import PLATFORM
from handlers.teams.reminders.notifier import TeamsNotifier, TeamsUnreachableError
from services.conversations import Conversations
from services.devices.cards import DeviceCard
from services.i18n import Translator
from services.reminders.notifier import ChatUser

logger = logging.getLogger(__name__)


class TeamsDeviceNotifier:
    def __init__(self, sender: TeamsSender, conversations: Conversations) -> None:
        self.sender = sender
        self.conversations = conversations
        self.people = TeamsNotifier(sender, conversations)  # finding people, plain DMs

    async def find_user(self, email: str) -> ChatUser | None:
        return await self.people.find_user(email)

    @staticmethod
    def _activity(card: DeviceCard, locale: str, tz: str | None) -> Any:
        t = Translator(locale)
        return card_message(device_card(card, t, tz=tz), summary(card, t))

    async def send_devices(self, to: str, card: DeviceCard, locale: str) -> dict[str, Any]:
        chat = await self.conversations.personal(platform=PLATFORM, user_id=to, directory_id=to)
        if chat is None:
            raise TeamsUnreachableError("the recipient has no personal chat with the bot")
        sent = await self.sender.send(chat, self._activity(card, locale, chat.tz))
        return {"conversation": chat.conversation_id, "id": sent}

    async def update_devices(self, ref: dict[str, Any], card: DeviceCard, locale: str) -> None:
        chat = await self.conversations.get(platform=PLATFORM, conversation_id=ref["conversation"])
        if chat is None or chat.removed:
            logger.info("device card not updated: the app was removed from that chat")
            return
        await self.sender.update(chat, str(ref["id"]), self._activity(card, locale, chat.tz))

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        await self.people.tell(to, key, locale, **params)
