"""The "onboard [company]" message in Teams: the card with the button that opens the form, in the
person's language, only for people who may onboard."""

from __future__ import annotations

from tests.handlers.teams.reading import card_of, words
from tests.teams_harness import Harness
from tests.teams_stub import (
    DAN,
    MARTA,
    VISITOR,
    channel,
    message,
    personal_chat,
    team_data,
    teams_user_id,
)


async def test_onboard_acme_answers_with_a_card_whose_button_opens_the_form(teams: Harness) -> None:
    activity = message("onboard Acme", teams.stub.url)
    reply = await teams.post(activity)

    assert reply.status == 202
    (sent,) = teams.stub.messages()
    assert sent.kind == "reply" and sent.conversation_id == personal_chat(MARTA)["id"]
    assert sent.activity["replyToId"] == activity["id"]
    assert sent.authorization is None  # anonymous local mode: no token goes out
    card = card_of(sent)
    assert words(card) == [
        "Onboard a client",
        "Onboard Acme into Autotask: the form opens in a dialog.",
    ]
    (button,) = card["actions"]
    assert button["type"] == "Action.Submit" and button["title"] == "Open the form"
    assert button["data"] == {"msteams": {"type": "task/fetch"}, "verb": "onboard.open",
                              "company": "Acme"}  # fmt: skip
    assert sent.activity["summary"] == "Onboard Acme into Autotask: the form opens in a dialog."


async def test_in_a_team_channel_the_bots_mention_is_not_part_of_the_company(
    teams: Harness,
) -> None:
    activity = message("onboard Acme Dental", teams.stub.url, mention=True,
                       conversation=channel(), channel_data=team_data())  # fmt: skip
    assert (await teams.post(activity)).status == 202

    (sent,) = teams.stub.messages()
    assert sent.conversation_id == "19:general@thread.tacv2"
    card = card_of(sent)
    assert card["actions"][0]["data"]["company"] == "Acme Dental"


async def test_the_card_speaks_the_activitys_language(teams: Harness) -> None:
    await teams.post(message("onboard", teams.stub.url, user_id=DAN, locale="es-ES"))

    card = card_of(teams.stub.messages()[0])
    assert words(card) == [
        "Incorporar un cliente",
        "Incorporar en Autotask un cliente recién ganado: el formulario se abre en un cuadro de "
        "diálogo.",
    ]
    assert card["actions"][0]["title"] == "Abrir el formulario"
    assert card["actions"][0]["data"]["company"] == ""


async def test_someone_who_may_not_onboard_is_told_why_in_their_language(teams: Harness) -> None:
    await teams.post(message("onboard Acme", teams.stub.url, user_id=VISITOR, locale="es-MX"))

    (sent,) = teams.stub.messages()
    card = card_of(sent)
    assert "actions" not in card  # no button to the form
    assert words(card)[1].startswith("Lo sentimos, visitor@elsewhere.example no puede incorporar")
    assert teams.stub.lookups == [VISITOR]


async def test_a_member_teams_cannot_find_gets_told_the_email_is_missing(teams: Harness) -> None:
    await teams.post(message("onboard Acme", teams.stub.url, user_id=teams_user_id("stranger")))

    card = card_of(teams.stub.messages()[0])
    assert words(card)[1].startswith("Sorry, Teams did not tell me your e-mail address")


async def test_anything_else_gets_the_help_text(teams: Harness) -> None:
    await teams.post(message("hello?", teams.stub.url, locale="es-ES"))

    (sent,) = teams.stub.messages()
    assert sent.activity["text"].startswith("Escriba onboard seguido del nombre del cliente")
