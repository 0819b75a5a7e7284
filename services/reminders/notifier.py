"""What the reminders need from a chat platform; Slack and Teams fill it in ``handlers/``, and
``services/reminders/routing.py`` chooses between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ChatUser:
    id: str
    tz: str | None
    locale: str
    platform: str = ""  # set by the router: the platform that found them


@dataclass(frozen=True)
class ReminderActor:
    """Who pressed a reminder's button: the chat account the platform signed for (never a value
    the message carries) and its e-mail."""

    user_id: str
    email: str | None = None


class UnreachableError(Exception):
    """The person can no longer be reached where they were (they removed the app there)."""


class NotYourReminderError(Exception):
    """Only the reminder's recipient, the onboarding's requester or an onboarding administrator
    may snooze a reminder or hand it over; ``key`` says so in the clicker's language."""

    key = "reminder.not_yours"

    def __init__(self) -> None:
        super().__init__(self.key)


@dataclass(frozen=True)
class ReminderCard:
    """Everything a reminder message shows; the notifier renders it in the recipient's language."""

    reminder_id: int
    company_id: int
    company_name: str
    missing: list[str]
    state: str  # "open", "snoozed", "complete", "handed"
    nudge: int
    link: str | None = None
    until: datetime | None = None
    handed_to: str | None = None  # a chat user id, on handed_to_platform
    handed_to_platform: str | None = None
    handed_to_email: str | None = None  # how the router names them on another platform


class Notifier(Protocol):
    async def find_user(self, email: str) -> ChatUser | None: ...

    async def send_reminder(self, to: str, card: ReminderCard, locale: str) -> dict[str, Any]:
        """Post a new reminder (a nudge) and return where it is, for later updates."""
        ...

    async def update_reminder(
        self, ref: dict[str, Any], card: ReminderCard, locale: str
    ) -> None: ...

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        """A plain direct message (i18n key + parameters)."""
        ...

    async def post_channel(self, channel: str, key: str, **params: Any) -> None: ...
