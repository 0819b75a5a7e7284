"""The dialog behind the card's button: task/fetch and task/submit answered within Teams' 5 seconds,
for the person who pressed it (anyone in a channel can)."""

from __future__ import annotations

from pathlib import Path

from tests.handlers.teams.form_support import inputs, texts
from tests.handlers.teams.reading import dialog_card, words
from tests.onboarding_support import company_id
from tests.teams_harness import Harness, running_bot
from tests.teams_stub import VISITOR, channel, invoke

OPEN = {"msteams": {"type": "task/fetch"}, "verb": "onboard.open", "company": "Acme Dental"}


async def test_the_button_opens_the_form_on_the_company_it_named(teams: Harness) -> None:
    reply = await teams.post(invoke("task/fetch", OPEN, teams.stub.url))

    assert reply.status == 200 and reply.seconds < 5
    assert reply.body["task"]["value"]["title"] == "Onboard a client"
    card = dialog_card(reply.body)
    assert texts(card)[0] == "Client · 1/4"
    acme = company_id(teams.sandbox.tenant, "Acme Dental")
    company = inputs(card)["company"]
    assert company["value"] == str(acme)
    assert company["choices"] == [{"title": "Acme Dental", "value": str(acme)}]
    assert [a["title"] for a in card["actions"]] == ["Update the page", "Next"]


async def test_closing_the_dialog_is_answered(teams: Harness) -> None:
    reply = await teams.post(invoke("task/submit", {"verb": "onboard.close"}, teams.stub.url))

    assert reply.status == 200 and reply.seconds < 5
    assert reply.body == {}  # an empty task response closes the dialog


async def test_a_card_from_an_older_bot_still_gets_an_answer(teams: Harness) -> None:
    for name in ("task/fetch", "task/submit"):
        reply = await teams.post(invoke(name, {"verb": "onboard.gone"}, teams.stub.url,
                                        locale="es-ES"))  # fmt: skip
        assert reply.status == 200
        assert reply.body["task"] == {
            "type": "message",
            "value": "Esta tarjeta está desactualizada. Escriba onboard para empezar de nuevo.",
        }


async def test_someone_else_pressing_the_button_in_a_channel_is_checked(teams: Harness) -> None:
    reply = await teams.post(invoke("task/fetch", OPEN, teams.stub.url, user_id=VISITOR,
                                    conversation=channel()))  # fmt: skip

    assert reply.status == 200
    card = dialog_card(reply.body)
    assert "actions" not in card
    assert words(card)[1].startswith("Sorry, visitor@elsewhere.example may not onboard clients")
    assert reply.body["task"]["value"]["height"] == "small"


async def test_slow_autotask_never_keeps_teams_waiting(tmp_path: Path) -> None:
    # 3 s per Autotask call and nothing cached yet: finding the person's resource needs a zone
    # look-up and a resource query, well over Teams' 5 seconds.
    async with running_bot(tmp_path, latency=3.0) as teams:
        first = await teams.post(invoke("task/fetch", OPEN, teams.stub.url))
        assert first.status == 200 and first.seconds < 5
        assert "taking longer than usual" in words(dialog_card(first.body))[1]

        await teams.settle()  # the look-up went on in the background and filled the cache
        again = await teams.post(invoke("task/fetch", OPEN, teams.stub.url))
        assert again.status == 200 and again.seconds < 5
        assert "company" in inputs(dialog_card(again.body))

        submit = await teams.post(invoke("task/submit", {"verb": "onboard.close"}, teams.stub.url))
        assert submit.status == 200 and submit.seconds < 5
