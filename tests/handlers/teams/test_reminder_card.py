"""The invoice reminder in Teams: a proactive card in the billing administrator's personal chat,
whose Universal Actions (Check now, Snooze, Not mine) answer within 5 s and refresh it in place."""

from __future__ import annotations

from typing import Any

import time_machine
from sqlalchemy import select

from services.autotask.filters import field
from services.reminders.service import Reminders
from services.store.tables import ReminderSchedule
from tests.handlers.teams.form_support import execute, texts
from tests.handlers.teams.reading import card_of
from tests.handlers.teams.test_reminders_across import (
    BEATRIZ,
    START,
    applied,
    beatriz_in_teams,
)
from tests.onboarding_support import company_id
from tests.teams_harness import Harness
from tests.teams_stub import DAN, MARTA, Sent, bot_added, personal_chat


def the_reminders(teams: Harness) -> Reminders:
    assert teams.container.reminders is not None
    return teams.container.reminders


def cards_in(teams: Harness, chat: str) -> list[Sent]:
    return [
        s for s in teams.stub.sent if s.conversation_id == chat and s.activity.get("attachments")
    ]


def actions(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Action.Execute of the card (also inside its Action.ShowCard), by verb."""
    found: dict[str, dict[str, Any]] = {}
    for action in card.get("actions", []):
        if action["type"] == "Action.Execute":
            found[action["verb"]] = action
        elif action["type"] == "Action.ShowCard":
            found.update(actions(action["card"]))
    return found


async def reminded(teams: Harness) -> tuple[str, dict[str, Any]]:
    await teams.post(bot_added(teams.stub.url))  # Marta, the requester
    chat = await beatriz_in_teams(teams)
    onboarding_id = await applied(teams, platform="teams", requested_by=MARTA)
    await the_reminders(teams).start(onboarding_id)
    [sent] = cards_in(teams, chat)
    assert sent.kind == "send"
    return chat, card_of(sent)


async def test_a_proactive_reminder_and_check_now_closing_it(teams: Harness) -> None:
    with time_machine.travel(START, tick=False):
        chat, card = await reminded(teams)
        assert "Still missing in Autotask: tax ID, Attention." in texts(card)
        check = actions(card)["reminder:check"]
        assert {a["title"] for a in card["actions"]} >= {"Check now", "Snooze", "Open in Autotask",
                                                         "Not mine"}  # fmt: skip

        early = await teams.post(execute(check["verb"], check["data"], teams.stub.url,
                                         user_id=BEATRIZ))  # fmt: skip
        assert early.status == 200 and early.seconds < 5
        assert early.body["value"] == "Still missing in Autotask: tax ID, Attention."

        acme = company_id(teams.sandbox.tenant, "Acme Dental")
        await teams.container.autotask.update("Companies", acme, {"taxID": "74-1112223",
                                                                  "billToAttention": "AP Dept"})  # fmt: skip
        done = await teams.post(execute(check["verb"], check["data"], teams.stub.url,
                                        user_id=BEATRIZ))  # fmt: skip
        assert done.body["value"].startswith("Autotask shows the invoice setup complete")
        await teams.settle()

    first, *later = cards_in(teams, chat)
    assert later[-1].kind == "update" and later[-1].activity_id == first.activity_id
    assert texts(card_of(later[-1])) == ["Invoice setup of Acme Dental is complete in Autotask. "
                                         "Thank you!"]  # fmt: skip
    told = [s for s in teams.stub.sent if s.conversation_id == personal_chat(MARTA)["id"]]
    assert any("is now complete in Autotask" in str(s.activity) for s in told)
    async with teams.container.db.transaction() as session:
        [status] = (await session.execute(select(ReminderSchedule.status))).scalars().all()
    assert status == "closed"
    todos = await teams.container.autotask.query("CompanyToDos", [field("companyID").eq(acme)])
    assert todos and all(t.get("completedDate") for t in todos)


async def test_snooze_and_not_mine_are_the_recipients_and_refresh_the_card(teams: Harness) -> None:
    await teams.post(bot_added(teams.stub.url, user_id=DAN, locale="es-ES"))  # Dan may be handed it
    with time_machine.travel(START, tick=False):
        chat, card = await reminded(teams)
        snooze, hand_over = actions(card)["reminder:snooze"], actions(card)["reminder:hand_over"]

        refused = await teams.post(execute(snooze["verb"], {**snooze["data"], "snooze_days": "3"},
                                           teams.stub.url, user_id=DAN, locale="es-ES"))  # fmt: skip
        assert refused.body["value"].startswith(
            "Solo la persona a quien va dirigido este recordatorio"
        )
        assert len(cards_in(teams, chat)) == 1  # untouched

        reply = await teams.post(execute(snooze["verb"], {**snooze["data"], "snooze_days": "3"},
                                         teams.stub.url, user_id=BEATRIZ))  # fmt: skip
        assert reply.status == 200 and reply.seconds < 5
        await teams.settle()
        snoozed = cards_in(teams, chat)[-1]
        assert snoozed.kind == "update"
        assert any(x.startswith("Snoozed until") for x in texts(card_of(snoozed)))

        email = "dan.okafor@brightline-it.example"
        reply = await teams.post(execute(hand_over["verb"], {**hand_over["data"],
                                                             "handover_email": email},
                                         teams.stub.url, user_id=BEATRIZ))  # fmt: skip
        assert reply.body["value"] == f"Handed to {email}."
        await teams.settle()
    handed = cards_in(teams, chat)[-1]
    assert handed.kind == "update" and f"Handed to {email}." in texts(card_of(handed))
    assert "actions" not in card_of(handed)  # nothing left to press on the old card
    [dans] = cards_in(teams, personal_chat(DAN)["id"])
    assert "Aún falta en Autotask: Id. de impuesto, Atención." in texts(card_of(dans))
