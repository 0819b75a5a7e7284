"""The device follow-up's ``DeviceNotifier`` for Teams: the offer as a proactive card in the
person's personal chat with the bot, updated in place as it is attached, snoozed or ended.

People are found as the reminders find them (the e-mail stored with their personal chat's
conversation reference); someone who never opened the app cannot be reached in Teams, and the
router tries the next platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handlers.teams.devices.cards import device_card, summary
from handlers.teams.proactive import TeamsSender, card_message
from handlers.teams.reminders.notifier import TeamsNotifier
from services.conversations import Conversations
from services.devices.cards import DeviceCard
from services.i18n import Translator
from services.reminders.notifier import ChatUser


class TeamsDeviceNotifier:
    def __init__(self, sender: TeamsSender, conversations: Conversations) -> None:
        self.sender = sender
        self.conversations = conversations
        self.people = TeamsNotifier(sender, conversations)  # finding people, plain DMs

    async def find_user(self, email: str) -> ChatUser | None:
        return await self.people.find_user(email)

    @staticmethod
    def _activity(card: DeviceCard, locale: str) -> Callable[[str | None], Awaitable[Any]]:
        async def built(tz: str | None) -> Any:
            t = Translator(locale)
            return card_message(device_card(card, t, tz=tz), summary(card, t))

        return built

    async def send_devices(self, to: str, card: DeviceCard, locale: str) -> dict[str, Any]:
        return await self.people.send_card(to, self._activity(card, locale))

    async def update_devices(self, ref: dict[str, Any], card: DeviceCard, locale: str) -> None:
        await self.people.update_card(ref, self._activity(card, locale))

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        await self.people.tell(to, key, locale, **params)
