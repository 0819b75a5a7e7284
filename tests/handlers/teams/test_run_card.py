"""Apply, the progress card updated in place, and Retry / Cancel as Universal Actions."""

from __future__ import annotations

import asyncio

from sqlalchemy import func
from sqlalchemy import select as sql_select

from services.autotask.sandbox import Fault
from services.store.tables import Onboarding
from tests.handlers.teams.form_support import break_fix_review, contract, execute, press, texts
from tests.handlers.teams.reading import card_of
from tests.teams_harness import Harness
from tests.teams_stub import DAN, Sent, bot_added, channel, message, team_data

CHANNEL = channel("onboarding")
DELTA_BLOCK = contract(4, "Delta block", "2027-01-01", "2027-06-30")


async def in_channel(teams: Harness) -> None:
    await teams.post(bot_added(teams.stub.url))  # Marta's personal chat
    await teams.post(message("onboard", teams.stub.url, mention=True, conversation=CHANNEL,
                             channel_data=team_data("onboarding")))  # fmt: skip
    await teams.settle()


def progress_cards(teams: Harness) -> list[Sent]:
    return [s for s in teams.stub.sent
            if s.conversation_id == CHANNEL["id"] and "Onboarding Delta" in str(s.activity)]  # fmt: skip


async def failed_run(teams: Harness) -> Sent:
    await in_channel(teams)
    review = await break_fix_review(teams, DELTA_BLOCK, conversation=CHANNEL)
    teams.sandbox.fail_next(Fault(status=500, errors=["Contract module is not active."],
                                  method="POST", path="Contracts"))  # fmt: skip
    await press(teams, review, "onboard.apply", conversation=CHANNEL)
    await teams.settle()
    return progress_cards(teams)[-1]


async def test_apply_twice_starts_one_run(teams: Harness) -> None:
    await in_channel(teams)
    review = await break_fix_review(teams, conversation=CHANNEL)

    first, second = await asyncio.gather(
        press(teams, review, "onboard.apply", conversation=CHANNEL),
        press(teams, review, "onboard.apply", conversation=CHANNEL),
    )
    await teams.settle()
    for reply in (first, second):
        assert reply.body["task"]["type"] == "message"
        assert "has started" in reply.body["task"]["value"]
    async with teams.container.db.transaction() as session:
        count = (await session.execute(sql_select(func.count()).select_from(Onboarding))).scalar()
    assert count == 1
    assert len([s for s in progress_cards(teams) if s.kind == "send"]) == 1


async def test_the_card_is_updated_in_place_and_retry_finishes_the_run(teams: Harness) -> None:
    failed = await failed_run(teams)
    [posted] = [s for s in progress_cards(teams) if s.kind == "send"]
    assert failed.kind == "update" and failed.activity_id == posted.activity_id
    card = card_of(failed)
    assert "Status: failed" in texts(card)
    assert any("Contract module is not active." in x for x in texts(card))
    retry = next(a for a in card["actions"] if a["type"] == "Action.Execute")
    assert retry["verb"] == "onboard.retry" and retry["title"] == "Retry"

    reply = await teams.post(execute("onboard.retry", retry["data"], teams.stub.url,
                                     conversation=CHANNEL))  # fmt: skip
    assert reply.status == 200 and reply.seconds < 5
    assert reply.body["type"] == "application/vnd.microsoft.activity.message"
    assert reply.body["value"].startswith("Retrying")
    await teams.settle()

    final = progress_cards(teams)[-1]
    assert final.kind == "update" and final.activity_id == posted.activity_id
    assert "Status: applied" in texts(card_of(final))
    assert len([s for s in progress_cards(teams) if s.kind == "send"]) == 1
    contracts = [c for c in teams.sandbox.tenant.table("Contracts").values()
                 if c["contractName"] == "Delta block"]  # fmt: skip
    assert len(contracts) == 1


async def test_someone_else_pressing_retry_or_cancel_is_refused_in_their_language(
    teams: Harness,
) -> None:
    failed = await failed_run(teams)
    data = {"onboarding": card_of(failed)["actions"][0]["data"]["onboarding"]}
    before = len(teams.stub.sent)

    for verb in ("onboard.retry", "onboard.cancel"):
        reply = await teams.post(execute(verb, data, teams.stub.url, user_id=DAN,
                                         locale="es-ES", conversation=CHANNEL))  # fmt: skip
        assert reply.status == 200 and reply.seconds < 5
        assert reply.body["value"].startswith("Solo quien solicitó esta incorporación")
    await teams.settle()
    assert len(teams.stub.sent) == before  # the card was not touched
    async with teams.container.db.transaction() as session:
        [status] = (await session.execute(sql_select(Onboarding.status))).scalars().all()
    assert status == "failed"
