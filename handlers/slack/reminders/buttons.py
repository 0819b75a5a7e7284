"""The buttons of a reminder DM (Check now, Snooze, Not mine) and the hand-over modal.

Who may press them is the reminders service's decision, from the Slack user who clicked (never
the button's value): Check now is harmless for anyone (it re-reads Autotask and updates the
recipient's own DM); Snooze and Not mine are the recipient's, the onboarding's requester's or an
onboarding administrator's. Anyone else is told why in a message only they see, in their language.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import InputBlock, UserSelectElement
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.ids import Action, Callback
from handlers.slack.mrkdwn import cut
from handlers.slack.private import tell_privately
from handlers.slack.state import block_values
from services.i18n import Translator
from services.reminders.notifier import NotYourReminderError, ReminderActor

HANDOVER_USER = "handover_user"
REMINDER_ID = re.compile(r"[0-9]{1,18}")


def reminder_id(value: Any) -> int | None:
    """The reminder a button or the hand-over modal names; ``None`` for anything else."""
    return int(value) if isinstance(value, str) and REMINDER_ID.fullmatch(value) else None


def _clicked(body: dict[str, Any]) -> int | None:
    actions = body.get("actions") or [{}]
    return reminder_id(actions[0].get("value")) if isinstance(actions[0], dict) else None


def register(app: Any, deps: SlackDeps) -> None:
    async def clicker(client: AsyncWebClient, body: dict[str, Any]) -> ReminderActor:
        user = await deps.user(client, body["user"]["id"])
        return ReminderActor(user.id, user.email)

    async def refused(client: AsyncWebClient, body: dict[str, Any]) -> None:
        t = Translator((await deps.user(client, body["user"]["id"])).locale)
        await tell_privately(client, body, t(NotYourReminderError.key))

    async def check(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        chosen = _clicked(body)
        if deps.reminders and chosen is not None:
            await deps.reminders.check_now(chosen)

    async def snooze(body: dict[str, Any], client: AsyncWebClient, days: int) -> None:
        chosen = _clicked(body)
        if deps.reminders is None or chosen is None:
            return
        try:
            await deps.reminders.snooze(chosen, days, by=await clicker(client, body))
        except NotYourReminderError:
            await refused(client, body)

    async def snooze_day(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await snooze(body, client, 1)

    async def snooze_week(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await snooze(body, client, 7)

    async def not_mine(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        chosen = _clicked(body)
        if deps.reminders is None or chosen is None:
            return
        try:  # before the form: a refused person is not asked whom to hand it to
            await deps.reminders.authorize(chosen, by=await clicker(client, body))
        except NotYourReminderError:
            await refused(client, body)
            return
        t = Translator((await deps.user(client, body["user"]["id"])).locale)
        view = View(
            type="modal", callback_id=Callback.HANDOVER, title=cut(t("reminder.handover_title"), 24),
            submit=cut(t("reminder.handover_submit"), 24), close=cut(t("slack.close"), 24),
            private_metadata=str(chosen),
            blocks=[InputBlock(block_id=HANDOVER_USER, label=t("reminder.handover_label"),
                               element=UserSelectElement(action_id=HANDOVER_USER))],
        )  # fmt: skip
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def handed_over(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        t = Translator((await deps.user(client, body["user"]["id"])).locale)
        chosen = block_values((view.get("state") or {}).get("values") or {}).get(HANDOVER_USER)
        reminder = reminder_id(view.get("private_metadata"))
        user = await deps.user(client, chosen) if isinstance(chosen, str) and chosen else None
        if user is None or not user.email:
            await ack(response_action="errors",
                      errors={HANDOVER_USER: t("reminder.handover_unknown")})  # fmt: skip
            return
        if deps.reminders is None or reminder is None:
            await ack()
            return
        by = await clicker(client, body)
        try:
            await deps.reminders.authorize(reminder, by=by)
        except NotYourReminderError:
            await ack(response_action="errors",
                      errors={HANDOVER_USER: t(NotYourReminderError.key)})  # fmt: skip
            return
        await ack()
        try:
            await deps.reminders.hand_over(reminder, user.email, by=by)
        except NotYourReminderError:  # the reminder changed hands meanwhile
            await tell_privately(client, body, t(NotYourReminderError.key))

    app.action(Action.REMINDER_CHECK)(check)
    app.action(Action.REMINDER_SNOOZE_DAY)(snooze_day)
    app.action(Action.REMINDER_SNOOZE_WEEK)(snooze_week)
    app.action(Action.REMINDER_NOT_MINE)(not_mine)
    app.view(Callback.HANDOVER)(handed_over)
