"""What the device listeners share: the clicker as the follow-up checks them, the offer a
payload names, and the private answer to a refusal."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import PLATFORM, SlackDeps
from handlers.slack.private import tell_privately
from services.devices.cards import DeviceActor, DevicesRefusedError
from services.i18n import Translator

OFFER_ID = re.compile(r"[0-9]{1,18}")


def offer_id(value: Any) -> int | None:
    """The offer a button or the Review modal names; ``None`` for anything else."""
    return int(value) if isinstance(value, str) and OFFER_ID.fullmatch(value) else None


def clicked(body: dict[str, Any]) -> int | None:
    actions = body.get("actions") or [{}]
    return offer_id(actions[0].get("value")) if isinstance(actions[0], dict) else None


async def actor(deps: SlackDeps, client: AsyncWebClient, body: dict[str, Any]) -> DeviceActor:
    """The Slack user Slack signed for (never a value the message carries)."""
    user = await deps.user(client, body["user"]["id"])
    return DeviceActor(user.id, user.email, PLATFORM, user.locale)


async def refused(
    deps: SlackDeps, client: AsyncWebClient, body: dict[str, Any], error: DevicesRefusedError
) -> None:
    t = Translator((await deps.user(client, body["user"]["id"])).locale)
    await tell_privately(client, body, t(error.key))
