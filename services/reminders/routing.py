"""Which chat platform a reminder goes to, when Slack, Teams or both are configured.

The rule, for a billing administrator found by e-mail: the onboarding's own platform first (an
onboarding started in Teams reminds in Teams), then each other configured platform in the order
given (``bot/`` passes Slack before Teams) until one finds the e-mail. A reminder then stays on
the platform that found its recipient; messages for the requester go to the onboarding's platform.
Rows and references from before Teams name no platform: they are Slack's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Generic, Protocol, TypeVar

from services.reminders.notifier import ChatUser, Notifier, ReminderCard

logger = logging.getLogger(__name__)
LEGACY = "slack"  # reminders and message references stored before a platform was recorded
# Parameters naming a person by their chat user id; ``<key>_platform`` and ``<key>_email`` say
# where that id is valid and how to name them elsewhere.
PEOPLE = ("admin",)


def named_for(platform: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as a message on ``platform`` shows them: a person whose id is another
    platform's (a Teams ``29:...`` id in Slack, a Slack ``U...`` id in Teams) is named by e-mail
    (``<key>_name``) instead of by id, which there would be gibberish or a broken mention."""
    out = dict(params)
    for key in PEOPLE:
        where = out.pop(f"{key}_platform", None) or LEGACY
        email = out.pop(f"{key}_email", None)
        if out.get(key) and where != platform:
            out[key] = None
            out[f"{key}_name"] = email or "?"
    return out


def card_for(platform: str, card: ReminderCard) -> ReminderCard:
    """The card as ``platform`` shows it: "handed to" someone on another platform by e-mail."""
    if card.handed_to and (card.handed_to_platform or LEGACY) != platform:
        return replace(card, handed_to=None, handed_to_email=card.handed_to_email or "?")
    return card


class _FindsPeople(Protocol):
    async def find_user(self, email: str) -> ChatUser | None: ...


N = TypeVar("N", bound=_FindsPeople)


class PlatformRouter(Generic[N]):
    """Every configured platform's notifier of one kind (reminders here, device offers in
    ``services/devices/routing.py``), and the rule above for finding a person among them."""

    def __init__(self, platforms: Mapping[str, N]) -> None:
        if not platforms:
            raise ValueError("at least one chat platform is needed to send reminders")
        self.platforms = dict(platforms)

    def order(self, prefer: str | None) -> list[str]:
        """The platforms to look for someone on: ``prefer`` first, then the others in order."""
        names = list(self.platforms)
        return [prefer, *(n for n in names if n != prefer)] if prefer in names else names

    def _on(self, platform: str | None) -> tuple[str, N]:
        """The platform's notifier; one not configured here (a terminal onboarding's "console",
        a row from before Teams) falls back to Slack, else the first platform."""
        name = platform or LEGACY
        if name not in self.platforms:
            name = LEGACY if LEGACY in self.platforms else next(iter(self.platforms))
        return name, self.platforms[name]

    async def find_user(self, email: str, *, prefer: str | None = None) -> ChatUser | None:
        for name in self.order(prefer):
            found = await self.platforms[name].find_user(email)
            if found is not None:
                return replace(found, platform=name)
        return None


class RoutingNotifier(PlatformRouter[Notifier]):
    """The reminders' one notifier over every configured platform's (``{"slack": ..., ...}``)."""

    @classmethod
    def of(cls, notifier: Notifier | RoutingNotifier) -> RoutingNotifier:
        """A router as is; a single platform's notifier as the only one (it gets everything)."""
        if isinstance(notifier, RoutingNotifier):
            return notifier
        return cls({LEGACY: notifier})

    async def send_reminder(
        self, to: str, card: ReminderCard, locale: str, *, platform: str | None = None
    ) -> dict[str, Any]:
        name, notifier = self._on(platform)
        return {**await notifier.send_reminder(to, card_for(name, card), locale), "platform": name}

    async def update_reminder(self, ref: dict[str, Any], card: ReminderCard, locale: str) -> None:
        name, notifier = self._on(ref.get("platform"))
        await notifier.update_reminder(ref, card_for(name, card), locale)

    async def tell(
        self,
        to: str,
        key: str,
        locale: str | None = None,
        *,
        platform: str | None = None,
        **params: Any,
    ) -> None:
        name, notifier = self._on(platform)
        await notifier.tell(to, key, locale, **named_for(name, params))

    async def post_channel(self, channel: str, key: str, **params: Any) -> None:
        """``REMINDER_ESCALATION_CHANNEL``: a Slack channel when Slack is configured, else a Teams
        conversation the app was added to."""
        name, notifier = self._on(LEGACY)
        await notifier.post_channel(channel, key, **named_for(name, params))


def was_sent(ref: dict[str, Any]) -> bool:
    """Does the reference name a message to update (Slack's ``ts``, Teams' activity ``id``)?"""
    return bool(ref.get("ts") or ref.get("id"))
