"""Reminder DMs for billing administrators: the reminders' ``Notifier`` for Slack and its DMs."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.ids import Action
from handlers.slack.mrkdwn import bold, date, emoji, fallback, literal, mention
from services.i18n import Translator
from services.reminders.notifier import ChatUser, ReminderCard


def reminder_blocks(card: ReminderCard, t: Translator) -> list[Block]:
    company = bold(literal(card.company_name))
    if card.state == "complete":
        done = f"{emoji('white_check_mark')} {t('reminder.done', company=company)}"
        return [SectionBlock(text=MarkdownTextObject(text=done))]
    items = ", ".join(t(f"missing.{m}") for m in card.missing)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=t("reminder.title", company=company))),
        SectionBlock(text=MarkdownTextObject(text=t("reminder.missing", items=items))),
    ]
    if card.state == "snoozed" and card.until:
        note = t("reminder.snoozed", until=date(card.until))
    elif card.state == "handed":
        who = mention(card.handed_to) if card.handed_to else literal(card.handed_to_email or "?")
        note = t("reminder.handed", user=who)
    else:
        note = t("reminder.nudge", n=card.nudge)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    if card.state == "handed":
        return blocks
    value = str(card.reminder_id)
    buttons: list[Any] = [
        ButtonElement(
            text=t("reminder.check_now"),
            action_id=Action.REMINDER_CHECK,
            value=value,
            style="primary",
        ),
        ButtonElement(
            text=t("reminder.snooze_day"), action_id=Action.REMINDER_SNOOZE_DAY, value=value
        ),
        ButtonElement(
            text=t("reminder.snooze_week"), action_id=Action.REMINDER_SNOOZE_WEEK, value=value
        ),
    ]
    if card.link:
        buttons.append(
            ButtonElement(
                text=t("slack.open_autotask"),
                action_id=Action.OPEN_AUTOTASK,
                url=card.link,
                value=value,
            )
        )
    buttons.append(
        ButtonElement(text=t("reminder.not_mine"), action_id=Action.REMINDER_NOT_MINE, value=value)
    )
    blocks.append(ActionsBlock(elements=buttons))
    return blocks


def reminder_message(card: ReminderCard, t: Translator) -> dict[str, Any]:
    """``text`` and ``blocks`` of a reminder DM in its current state, saying the same thing."""
    blocks = reminder_blocks(card, t)
    return {"text": fallback(blocks), "blocks": [b.to_dict() for b in blocks]}


class SlackNotifier:
    """The reminders' ``Notifier`` for Slack: DMs, updated in place when their state changes."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def find_user(self, email: str) -> ChatUser | None:
        try:
            found: Any = await self.client.users_lookupByEmail(email=email)
            info: Any = await self.client.users_info(user=found["user"]["id"], include_locale=True)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        user = info["user"]
        return ChatUser(user["id"], user.get("tz"), user.get("locale") or "en-US")

    async def _dm(self, user: str) -> str:
        reply: Any = await self.client.conversations_open(users=user)
        return str(reply["channel"]["id"])

    async def post_dm(self, to: str, message: dict[str, Any]) -> dict[str, Any]:
        """DM ``message`` (text + blocks) and return where it is, to update it in place."""
        reply: Any = await self.client.chat_postMessage(channel=await self._dm(to), **message)
        return {"channel": reply["channel"], "ts": reply["ts"]}

    async def update_dm(self, ref: dict[str, Any], message: dict[str, Any]) -> None:
        await self.client.chat_update(channel=ref["channel"], ts=ref["ts"], **message)

    async def send_reminder(self, to: str, card: ReminderCard, locale: str) -> dict[str, Any]:
        return await self.post_dm(to, reminder_message(card, Translator(locale)))

    async def update_reminder(self, ref: dict[str, Any], card: ReminderCard, locale: str) -> None:
        await self.update_dm(ref, reminder_message(card, Translator(locale)))

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        if locale is None:
            info: Any = await self.client.users_info(user=to, include_locale=True)
            locale = info["user"].get("locale") or "en-US"
        t = Translator(locale)
        await self.client.chat_postMessage(
            channel=await self._dm(to), text=t(key, **_shown(params, t))
        )

    async def post_channel(self, channel: str, key: str, **params: Any) -> None:
        t = Translator("en")
        await self.client.chat_postMessage(channel=channel, text=t(key, **_shown(params, t)))


USER_PARAMS = ("admin",)  # parameters the reminders service fills with a chat user id


def _shown(params: dict[str, Any], t: Translator) -> dict[str, Any]:
    out = {k: literal(v) if isinstance(v, str) else v for k, v in params.items()}
    for key in USER_PARAMS:  # a person on another platform comes by name (the router's)
        named = out.pop(f"{key}_name", None)
        if named:
            out[key] = named
        elif params.get(key):
            out[key] = mention(str(params[key]))
    if isinstance(params.get("missing"), list):
        out["missing"] = ", ".join(t(f"missing.{m}") for m in params["missing"])
    return out
