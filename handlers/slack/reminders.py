"""Reminder DMs for billing administrators: the Slack notifier and its buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.ids import Action, Callback
from handlers.slack.text import cut, escape, fallback
from services.i18n import Translator
from services.reminders.notifier import ChatUser, ReminderCard


def reminder_blocks(card: ReminderCard, t: Translator) -> list[Block]:
    if card.state == "complete":
        return [
            SectionBlock(
                text=MarkdownTextObject(text=t("reminder.done", company=escape(card.company_name)))
            )
        ]
    items = ", ".join(t(f"missing.{m}") for m in card.missing)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=t("reminder.title", company=escape(card.company_name)))
        ),
        SectionBlock(text=MarkdownTextObject(text=t("reminder.missing", items=items))),
    ]
    if card.state == "snoozed" and card.until:
        note = t(
            "reminder.snoozed",
            until=f"<!date^{int(card.until.timestamp())}^{{date_short_pretty}} {{time}}|{card.until:%Y-%m-%d %H:%M} UTC>",
        )
    elif card.state == "handed":
        note = t("reminder.handed", user=f"<@{card.handed_to}>")
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

    async def send_reminder(self, to: str, card: ReminderCard, locale: str) -> dict[str, Any]:
        channel = await self._dm(to)
        reply: Any = await self.client.chat_postMessage(
            channel=channel, **reminder_message(card, Translator(locale))
        )
        return {"channel": reply["channel"], "ts": reply["ts"]}

    async def update_reminder(self, ref: dict[str, Any], card: ReminderCard, locale: str) -> None:
        await self.client.chat_update(
            channel=ref["channel"], ts=ref["ts"], **reminder_message(card, Translator(locale))
        )

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


def _shown(params: dict[str, Any], t: Translator) -> dict[str, Any]:
    out = {k: escape(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params.get("missing"), list):
        out["missing"] = ", ".join(t(f"missing.{m}") for m in params["missing"])
    return out


def register(app: Any, deps: SlackDeps) -> None:
    async def check(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if deps.reminders:
            await deps.reminders.check_now(int(body["actions"][0]["value"]))

    async def snooze_day(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if deps.reminders:
            await deps.reminders.snooze(int(body["actions"][0]["value"]), 1)

    async def snooze_week(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if deps.reminders:
            await deps.reminders.snooze(int(body["actions"][0]["value"]), 7)

    async def not_mine(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        t = Translator((await deps.user(client, body["user"]["id"])).locale)
        view = View(
            type="modal", callback_id=Callback.HANDOVER, title=cut(t("reminder.handover_title"), 24),
            submit=cut(t("reminder.handover_submit"), 24), close=cut(t("slack.close"), 24),
            private_metadata=body["actions"][0]["value"],
            blocks=[InputBlock(block_id="handover_user", label=t("reminder.handover_label"),
                               element=UserSelectElement(action_id="handover_user"))],
        )  # fmt: skip
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def handed_over(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        chosen = view["state"]["values"]["handover_user"]["handover_user"].get("selected_user")
        user = await deps.user(client, chosen) if chosen else None
        if user is None or not user.email:
            t = Translator((await deps.user(client, body["user"]["id"])).locale)
            await ack(
                response_action="errors", errors={"handover_user": t("reminder.handover_unknown")}
            )
            return
        await ack()
        if deps.reminders:
            await deps.reminders.hand_over(int(view["private_metadata"]), user.email)

    app.action(Action.REMINDER_CHECK)(check)
    app.action(Action.REMINDER_SNOOZE_DAY)(snooze_day)
    app.action(Action.REMINDER_SNOOZE_WEEK)(snooze_week)
    app.action(Action.REMINDER_NOT_MINE)(not_mine)
    app.view(Callback.HANDOVER)(handed_over)
