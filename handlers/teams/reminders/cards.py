"""The reminder card: what is missing, and Check now, Snooze, Open in Autotask, Not mine.

The buttons are Universal Actions (``Action.Execute``): Teams sends ``adaptiveCard/action`` with
the verb and the data below, signed as the person who pressed it. The card names the reminder and
nothing about who may act; ``buttons.py`` asks the reminders service about the presser.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    ExecuteAction,
    OpenUrlAction,
    ShowCardAction,
    TextInput,
)

from handlers.teams.cards import VERSION, text
from services.i18n import Translator
from services.reminders.notifier import ReminderCard

SNOOZE_DAYS = "snooze_days"  # the snooze choice's input id
HANDOVER_EMAIL = "handover_email"  # the hand-over e-mail's input id
SNOOZE_CHOICES = {days: f"reminder.days_{days}" for days in (1, 3, 7)}
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Verb(StrEnum):
    """``action.verb`` of the reminder card's buttons; ``buttons.py`` routes on them."""

    CHECK = "reminder:check"
    SNOOZE = "reminder:snooze"
    HAND_OVER = "reminder:hand_over"


def when(moment: datetime, tz: str | None) -> str:
    """A moment in the reader's time zone (UTC when we do not know theirs)."""
    zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({tz or 'UTC'})"


def _dump(card: AdaptiveCard) -> dict[str, Any]:
    return card.model_dump(exclude_none=True, by_alias=True)


def _execute(title: str, verb: Verb, reminder: int, *, primary: bool = False) -> ExecuteAction:
    action = ExecuteAction(title=title, verb=str(verb), data={"reminder": str(reminder)})
    return action.with_style("positive") if primary else action


def _inline(body: list[CardElement], action: ExecuteAction) -> AdaptiveCard:
    return AdaptiveCard(version=VERSION, body=body, actions=[action])


def reminder_card(
    card: ReminderCard, t: Translator, *, tz: str | None = None, handed_to: str | None = None
) -> dict[str, Any]:
    """The card in its current state (the same card is sent, then updated in place)."""
    heading = text(t("reminder.title", company=card.company_name), heading=True)
    if card.state == "complete":
        done = text(t("reminder.done", company=card.company_name), heading=True)
        return _dump(AdaptiveCard(version=VERSION, body=[done]))
    items = ", ".join(t(f"missing.{m}") for m in card.missing)
    if card.state == "snoozed" and card.until:
        note = t("reminder.snoozed", until=when(card.until, tz))
    elif card.state == "handed":
        note = t("reminder.handed", user=handed_to or card.handed_to or "?")
    else:
        note = t("reminder.nudge", n=card.nudge)
    body: list[CardElement] = [heading, text(t("reminder.missing", items=items)),
                               text(note, subtle=True)]  # fmt: skip
    if card.state == "handed":
        return _dump(AdaptiveCard(version=VERSION, body=body))
    rid = card.reminder_id
    snooze = ChoiceSetInput(
        id=SNOOZE_DAYS, label=t("reminder.snooze_for"), value="1", is_required=True,
        choices=[Choice(title=t(key), value=str(days)) for days, key in SNOOZE_CHOICES.items()],
    )  # fmt: skip
    email = TextInput(
        id=HANDOVER_EMAIL, label=t("reminder.handover_label"), style="Email", is_required=True,
        regex=EMAIL_PATTERN, error_message=t("reminder.handover_invalid"), max_length=254,
        placeholder="name@example.com",
    )  # fmt: skip
    actions: list[Action] = [
        _execute(t("reminder.check_now"), Verb.CHECK, rid, primary=True),
        ShowCardAction(title=t("reminder.snooze"),
                       card=_inline([snooze], _execute(t("reminder.snooze"), Verb.SNOOZE, rid))),
    ]  # fmt: skip
    if card.link:
        actions.append(OpenUrlAction(title=t("slack.open_autotask"), url=card.link))
    actions.append(
        ShowCardAction(title=t("reminder.not_mine"),
                       card=_inline([email], _execute(t("reminder.handover_submit"),
                                                      Verb.HAND_OVER, rid)))
    )  # fmt: skip
    return _dump(AdaptiveCard(version=VERSION, body=body, actions=actions))


def summary(card: ReminderCard, t: Translator) -> str:
    """What a notification shows of the card."""
    if card.state == "complete":
        return t("reminder.done", company=card.company_name)
    return t("reminder.title", company=card.company_name)
