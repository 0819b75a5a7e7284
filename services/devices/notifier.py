"""What the device follow-up needs from a chat platform. Slack fills it in
``handlers/slack/devices/notifier.py``, Teams in ``handlers/teams/devices/``; ``routing.py``
sends each DM to the platform the person is on."""

from __future__ import annotations

from typing import Any, Protocol

from services.devices.cards import DeviceCard
from services.reminders.notifier import ChatUser


class DeviceNotifier(Protocol):
    async def find_user(self, email: str) -> ChatUser | None:
        """The person with this e-mail on this platform (``None``: not there)."""
        ...

    async def send_devices(self, to: str, card: DeviceCard, locale: str) -> dict[str, Any]:
        """DM a new device offer to chat user ``to``; return where it is (a JSON-able reference
        the same notifier gets back in ``update_devices``)."""
        ...

    async def update_devices(self, ref: dict[str, Any], card: DeviceCard, locale: str) -> None:
        """Show the offer's new state in the same message (attached, failed, ended...)."""
        ...

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        """A plain direct message (i18n key + parameters, all plain text)."""
        ...
