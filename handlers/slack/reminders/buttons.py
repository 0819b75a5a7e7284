"""The buttons of a reminder DM (Check now, Snooze, Not mine) and the hand-over modal."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import InputBlock, UserSelectElement
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.ids import Action, Callback
from handlers.slack.mrkdwn import cut
from handlers.slack.state import block_values
from services.i18n import Translator

HANDOVER_USER = "handover_user"


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
            blocks=[InputBlock(block_id=HANDOVER_USER, label=t("reminder.handover_label"),
                               element=UserSelectElement(action_id=HANDOVER_USER))],
        )  # fmt: skip
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def handed_over(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        chosen = block_values(view["state"]["values"]).get(HANDOVER_USER)
        user = await deps.user(client, chosen) if chosen else None
        if user is None or not user.email:
            t = Translator((await deps.user(client, body["user"]["id"])).locale)
            await ack(
                response_action="errors", errors={HANDOVER_USER: t("reminder.handover_unknown")}
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
