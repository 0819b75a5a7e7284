"""The reminder card's Universal Actions: Check now, Snooze, Not mine (hand over).

Who may press them is the reminders service's decision, from the Teams member the signed activity
comes from (``from`` and their member e-mail, never a value the card carries): Check now is open to
anyone (it re-reads Autotask and updates the recipient's own card); Snooze and Not mine are the
recipient's, the onboarding's requester's or an onboarding administrator's. Anyone else is told
why in their language and the reminder is untouched. Every answer comes within the invoke budget;
a slow Autotask keeps working in the background and the card updates when it is done.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext

from handlers.teams import people
from handlers.teams.deps import TeamsDeps
from handlers.teams.reminders.cards import (
    EMAIL_PATTERN,
    HANDOVER_EMAIL,
    SNOOZE_CHOICES,
    SNOOZE_DAYS,
    Verb,
)
from services.i18n import Translator
from services.reminders.notifier import NotYourReminderError, ReminderActor

logger = logging.getLogger(__name__)
MESSAGE = "application/vnd.microsoft.activity.message"
REMINDER_ID = re.compile(r"[0-9]{1,18}")


def said(message: str) -> AdaptiveCardInvokeResponse:
    """Answer a button with a short message (the card itself is updated by the reminders)."""
    return AdaptiveCardInvokeResponse(status_code=HTTPStatus.OK, type=MESSAGE, value=message)


def reminder_id(data: Any) -> int | None:
    value = data.get("reminder") if isinstance(data, dict) else None
    return int(value) if isinstance(value, str) and REMINDER_ID.fullmatch(value) else None


async def _answer(work: Awaitable[str]) -> str:
    return await work


async def within_budget(deps: TeamsDeps, work: Awaitable[str], t: Translator) -> str:
    """``work``'s message if it comes within the invoke budget, else "still working" while it
    finishes in the background (the card is updated in place either way)."""
    task = deps.background.run(_answer(work))
    try:
        return await asyncio.wait_for(asyncio.shield(task), deps.invoke_budget)
    except TimeoutError:
        logger.warning("reminder button took longer than %.1f s; answered 'checking'",
                       deps.invoke_budget)  # fmt: skip
        return t("reminder.checking")


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    async def presser(context: TurnContext) -> ReminderActor:
        who = await people.member(context, deps)
        return ReminderActor(who.id, who.email)

    async def check(context: TurnContext, state: Any, data: Any) -> AdaptiveCardInvokeResponse:
        t = Translator(context.activity.locale)
        chosen = reminder_id(data)
        if deps.reminders is None or chosen is None:
            return said(t("teams.out_of_date"))
        return said(await within_budget(deps, _check(deps, chosen, t), t))

    async def snooze(context: TurnContext, state: Any, data: Any) -> AdaptiveCardInvokeResponse:
        t = Translator(context.activity.locale)
        chosen = reminder_id(data)
        days = _days(data)
        if deps.reminders is None or chosen is None or days is None:
            return said(t("teams.out_of_date"))
        by = await presser(context)
        return said(await within_budget(deps, _snooze(deps, chosen, days, by, t), t))

    async def hand_over(context: TurnContext, state: Any, data: Any) -> AdaptiveCardInvokeResponse:
        t = Translator(context.activity.locale)
        chosen = reminder_id(data)
        if deps.reminders is None or chosen is None:
            return said(t("teams.out_of_date"))
        raw = data.get(HANDOVER_EMAIL) if isinstance(data, dict) else None
        email = raw.strip() if isinstance(raw, str) else ""
        if not re.fullmatch(EMAIL_PATTERN, email) or len(email) > 254:
            return said(t("reminder.handover_invalid"))  # what was typed stays in the card
        by = await presser(context)
        return said(await within_budget(deps, _hand_over(deps, chosen, email, by, t), t))

    app.adaptive_card.action_execute(str(Verb.CHECK))(check)
    app.adaptive_card.action_execute(str(Verb.SNOOZE))(snooze)
    app.adaptive_card.action_execute(str(Verb.HAND_OVER))(hand_over)


def _days(data: Any) -> int | None:
    value = data.get(SNOOZE_DAYS) if isinstance(data, dict) else None
    days = int(value) if isinstance(value, str) and value.isdigit() else None
    return days if days in SNOOZE_CHOICES else None


async def _check(deps: TeamsDeps, reminder: int, t: Translator) -> str:
    assert deps.reminders is not None
    missing = await deps.reminders.check_now(reminder)
    if missing is None:
        return t("teams.out_of_date")
    if not missing:
        return t("reminder.checked_done")
    return t("reminder.missing", items=", ".join(t(f"missing.{m}") for m in missing))


async def _snooze(deps: TeamsDeps, reminder: int, days: int, by: ReminderActor,
                  t: Translator) -> str:  # fmt: skip
    assert deps.reminders is not None
    try:
        until = await deps.reminders.snooze(reminder, days, by=by)
    except NotYourReminderError:
        return t(NotYourReminderError.key)
    return t("reminder.snooze_done") if until else t("teams.out_of_date")


async def _hand_over(deps: TeamsDeps, reminder: int, email: str, by: ReminderActor,
                     t: Translator) -> str:  # fmt: skip
    assert deps.reminders is not None
    try:
        handed = await deps.reminders.hand_over(reminder, email, by=by)
    except NotYourReminderError:
        return t(NotYourReminderError.key)
    return t("reminder.handed", user=email) if handed else t("reminder.handover_not_found",
                                                               email=email)  # fmt: skip
