"""Which chat platform a device offer goes to: the reminders' rule (``services/reminders/
routing.py``): the requester on the onboarding's own platform; anyone found by e-mail (the account
manager of a terminal onboarding) on the onboarding's platform first, then each other configured
platform (Slack before Teams). An offer stays on the platform it was sent on."""

from __future__ import annotations

from typing import Any

from services.devices.cards import DeviceCard
from services.devices.notifier import DeviceNotifier
from services.reminders.routing import PlatformRouter


class DeviceRouting(PlatformRouter[DeviceNotifier]):
    """The device follow-up's one notifier over every configured platform's."""

    async def send_devices(
        self, to: str, card: DeviceCard, locale: str, *, platform: str | None = None
    ) -> dict[str, Any]:
        name, notifier = self._on(platform)
        return {**await notifier.send_devices(to, card, locale), "platform": name}

    async def update_devices(self, ref: dict[str, Any], card: DeviceCard, locale: str) -> None:
        _, notifier = self._on(ref.get("platform"))
        await notifier.update_devices(ref, card, locale)

    async def tell(
        self, to: str, key: str, locale: str | None = None, *, platform: str | None = None,
        **params: Any,
    ) -> None:  # fmt: skip
        _, notifier = self._on(platform)
        await notifier.tell(to, key, locale, **params)

    def serves(self, platform: str | None) -> bool:
        """Is ``platform`` (an onboarding's) one this router can DM its requester on?"""
        return platform in self.platforms
