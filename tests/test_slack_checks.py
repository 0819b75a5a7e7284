"""The checks every Slack test runs afterwards (tests/handlers/slack/conftest.py) catch what they
are there for. Outside that folder, so its autouse fixture does not catch this file's own errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.slack.mrkdwn import fallback, literal
from handlers.slack.reminders.notifier import reminder_blocks, reminder_message
from handlers.slack.run.message import progress_blocks
from services.i18n import Translator
from services.onboarding.runner import StepView
from services.reminders.notifier import ReminderCard
from tests.slack_checks import disagreement, errors_logged, problems
from tests.slack_stub import ApiCall


def _card(state: str, **more: Any) -> ReminderCard:
    return ReminderCard(7, 1, "<!channel> Dental", ["tax_id", "attention"], state, 2, **more)


def _update(args: dict[str, Any]) -> ApiCall:
    return ApiCall("chat.update", args, 0.0)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_a_reminder_whose_text_still_says_incomplete_after_check_now_is_caught(
    locale: str,
) -> None:
    t = Translator(locale)
    card = _card("complete")
    blocks = [b.to_dict() for b in reminder_blocks(card, t)]
    as_it_was = {"text": t("reminder.title", company=literal(card.company_name)), "blocks": blocks}
    assert disagreement(_update(as_it_was)) is not None  # the DM as sent before: caught
    assert disagreement(_update(reminder_message(card, t))) is None


@pytest.mark.parametrize(
    "card",
    [
        _card("open"),
        _card("snoozed", until=datetime(2027, 3, 11, 13, tzinfo=UTC)),
        _card("handed", handed_to="UT"),
        _card("complete"),
    ],
)
def test_every_reminder_state_says_the_same_in_text_and_blocks(card: ReminderCard) -> None:
    for locale in ("en", "es"):
        message = reminder_message(card, Translator(locale))
        assert disagreement(_update(message)) is None
        assert "<!channel>" not in message["text"]  # the fallback is mrkdwn too: still escaped


def test_the_progress_text_carries_the_status_and_a_failure() -> None:
    t = Translator("en")
    steps = [
        StepView("a", "company_type", {"company": "Acme"}, [], "done"),
        StepView(
            "b", "contract", {"name": "Acme MS"}, [], "failed", "Contract module is not active."
        ),
    ]
    blocks = progress_blocks(
        company="<!channel>", requester="U1", status="failed", steps=steps, t=t, onboarding_id="x"
    )
    text = fallback(blocks)
    message = {"text": text, "blocks": [b.to_dict() for b in blocks]}
    assert disagreement(_update(message)) is None
    assert "failed" in text and "Contract module is not active." in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    headline_only = {**message, "text": "Onboarding <!channel>"}
    assert disagreement(_update(headline_only)) is None  # a shorter text that says the lead is fine
    assert disagreement(_update({**message, "text": ""})) is not None
    assert disagreement(_update({**message, "text": "Requested by <@U1> · failed"})) is not None


def test_an_error_logged_anywhere_is_reported() -> None:
    with errors_logged() as log:
        logging.getLogger("slack_bolt.AsyncApp").warning("a warning is not a failure")
        try:
            raise AttributeError("'NoneType' object has no attribute 'text'")
        except AttributeError:
            logging.getLogger("slack_bolt.AsyncApp").exception("Failed to run listener function")
    [found] = problems([], log)
    assert "Failed to run listener function" in found and "AttributeError" in found
