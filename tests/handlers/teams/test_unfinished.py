""" "onboard" in Teams also offers the person's own failed or stranded onboardings, with Retry or
Resume (as Slack's /onboard and App Home do); only the requester's runs, and only they may press."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select as sql_select
from sqlalchemy import update

from services.store.tables import Onboarding
from tests.handlers.teams.form_support import execute, texts
from tests.handlers.teams.reading import card_of
from tests.handlers.teams.test_run_card import CHANNEL, failed_run, progress_cards
from tests.teams_harness import Harness
from tests.teams_stub import DAN, Sent, message


def offers(teams: Harness, since: int) -> list[Sent]:
    return [s for s in teams.stub.messages()[since:]
            if "did not finish" in str(s.activity) or "no terminaron" in str(s.activity)]  # fmt: skip


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"]]


async def status(teams: Harness) -> str:
    async with teams.container.db.transaction() as session:
        [found] = (await session.execute(sql_select(Onboarding.status))).scalars().all()
    return str(found)


async def test_onboard_offers_a_failed_run_and_its_retry_finishes_it(teams: Harness) -> None:
    await failed_run(teams)
    before = len(teams.stub.messages())

    await teams.post(message("onboard", teams.stub.url))  # Marta, in her personal chat
    [offer] = offers(teams, before)
    card = card_of(offer)
    shown = " ".join(texts(card))
    assert "These onboardings of yours did not finish:" in shown
    assert "Delta Print Works: failed" in shown and "Contract module is not active." in shown
    [retry] = buttons(card)
    assert retry["type"] == "Action.Execute" and retry["title"] == "Retry"
    assert retry["verb"] == "onboard.retry"

    # Dan sees none of Marta's runs, and her button does nothing for him.
    before = len(teams.stub.messages())
    await teams.post(message("onboard", teams.stub.url, user_id=DAN))
    assert offers(teams, before) == []
    refused = await teams.post(execute(retry["verb"], retry["data"], teams.stub.url, user_id=DAN))
    assert refused.body["value"].startswith("Only the person who requested")
    await teams.settle()
    assert await status(teams) == "failed"

    reply = await teams.post(execute(retry["verb"], retry["data"], teams.stub.url))
    assert reply.status == 200 and reply.seconds < 5 and reply.body["value"].startswith("Retrying")
    await teams.settle()
    assert await status(teams) == "applied"
    final = progress_cards(teams)[-1]  # the card in the channel it began in, updated in place
    assert final.kind == "update" and final.conversation_id == CHANNEL["id"]
    assert "Status: applied" in texts(card_of(final))

    before = len(teams.stub.messages())
    await teams.post(message("onboard", teams.stub.url))
    assert offers(teams, before) == []  # nothing left to offer


async def test_a_run_stranded_by_a_dead_process_is_offered_with_resume(teams: Harness) -> None:
    await failed_run(teams)
    async with teams.container.db.transaction() as session:  # as a process killed mid-run leaves it
        await session.execute(update(Onboarding).values(status="applying", lease_owner="gone",
                                                        lease_until=datetime.now(UTC) - timedelta(hours=1)))  # fmt: skip
    before = len(teams.stub.messages())

    await teams.post(message("onboard", teams.stub.url, locale="es-ES"))
    [offer] = offers(teams, before)
    card = card_of(offer)
    assert any("se detuvo cuando se detuvo el bot" in x for x in texts(card))
    [resume] = buttons(card)
    assert resume["title"] == "Continuar"

    await teams.post(execute(resume["verb"], resume["data"], teams.stub.url, locale="es-ES"))
    await teams.settle()
    assert await status(teams) == "applied"
