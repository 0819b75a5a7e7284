"""What the Slack listeners share, built once by ``bot/slack.py``: the onboarding service, the
reminders, and who a Slack user is (cached ``users.info`` and user-group look-ups)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from services.devices.service import DeviceFollowUps
from services.onboarding.actor import Actor
from services.onboarding.service import OnboardingService
from services.reminders.service import Reminders

PLATFORM = "slack"
RECEIVED_AT = "received_at"  # the Bolt context key: when the HTTP request reached this process


def received_at(context: Mapping[str, Any]) -> float:
    """When Slack's 3 seconds began for this request, as ``time.monotonic()``: the moment the
    HTTP route read it (under load, requests wait for the event loop before a listener runs), or
    now when it came another way (Socket Mode)."""
    value = context.get(RECEIVED_AT)
    return float(value) if isinstance(value, int | float) else time.monotonic()


@dataclass(frozen=True)
class SlackUser:
    id: str
    email: str | None
    locale: str
    tz: str | None


@dataclass
class SlackDeps:
    service: OnboardingService
    reminders: Reminders | None = None
    devices: DeviceFollowUps | None = None
    ack_budget: float = 2.0  # seconds of work allowed before an ack; Slack waits 3
    user_ttl: float = 600.0
    _users: dict[str, tuple[float, SlackUser]] = field(default_factory=dict)
    _groups: dict[str, tuple[float, set[str]]] = field(default_factory=dict)

    def left(self, started: float) -> float:
        """Seconds of the ack budget left for a request that began at ``started``."""
        return max(0.0, self.ack_budget - (time.monotonic() - started))

    def known_locale(self, user_id: str) -> str | None:
        """The user's locale if it was looked up before, for a view that must be sent before any
        Slack call (the loading modal, within the trigger id's 3 seconds)."""
        cached = self._users.get(user_id)
        return cached[1].locale if cached else None

    async def user(self, client: AsyncWebClient, user_id: str) -> SlackUser:
        """E-mail, locale and time zone of a Slack user (``users.info``), cached for a while."""
        cached = self._users.get(user_id)
        if cached and time.monotonic() - cached[0] < self.user_ttl:
            return cached[1]
        try:
            reply: Any = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("user_not_found", "user_not_visible"):
                raise
            return SlackUser(user_id, None, "en-US", None)  # no e-mail: may do nothing
        data = reply["user"]
        user = SlackUser(
            user_id,
            (data.get("profile") or {}).get("email"),
            data.get("locale") or "en-US",
            data.get("tz"),
        )
        self._users[user_id] = (time.monotonic(), user)
        return user

    async def actor(self, client: AsyncWebClient, user_id: str) -> Actor:
        """The person behind a Slack request, as the onboarding service checks them: the user id
        Slack signed, never anything a view or a button carries."""
        user = await self.user(client, user_id)

        async def member_of(group: str) -> bool:
            return user_id in await self._group_members(client, group)

        return await self.service.identify(platform=PLATFORM, user_id=user_id, email=user.email,
                                           locale=user.locale, tz=user.tz,
                                           member_of=member_of)  # fmt: skip

    async def _group_members(self, client: AsyncWebClient, group: str) -> set[str]:
        cached = self._groups.get(group)
        if cached and time.monotonic() - cached[0] < self.user_ttl:
            return cached[1]
        reply: Any = await client.usergroups_users_list(usergroup=group)
        members = set(reply.get("users") or [])
        self._groups[group] = (time.monotonic(), members)
        return members
