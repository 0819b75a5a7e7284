"""Conversation references kept at install or first use, and proactive messages through them."""

from __future__ import annotations

from microsoft_agents.activity import Activity

from handlers.teams import cards
from handlers.teams.proactive import card_message
from services.i18n import Translator
from tests.teams_harness import Harness
from tests.teams_stub import (
    MARTA,
    aad_object_id,
    bot_added,
    channel,
    installation,
    message,
    personal_chat,
    team_data,
)


async def test_installing_the_app_stores_the_conversation_and_says_hello(teams: Harness) -> None:
    reply = await teams.post(bot_added(teams.stub.url, locale="es-ES"))
    assert reply.status == 202

    (welcome,) = teams.stub.messages()
    assert welcome.activity["text"].startswith("¡Hola! Incorporo en Autotask")
    stored = await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA)
    assert stored is not None
    assert stored.conversation_id == personal_chat(MARTA)["id"] and stored.kind == "personal"
    assert stored.directory_id == aad_object_id(MARTA) and stored.locale == "es-ES"
    assert stored.reference["serviceUrl"] == teams.stub.url
    assert stored.reference["bot"]["id"] == "28:onboarding-bot"


async def test_first_use_in_a_team_channel_is_remembered_too(teams: Harness) -> None:
    await teams.post(message("onboard Acme", teams.stub.url, mention=True,
                             conversation=channel("sales"), channel_data=team_data("sales")))  # fmt: skip
    await teams.settle()

    stored = await teams.bot.deps.conversations.get(
        platform="teams", conversation_id="19:sales@thread.tacv2"
    )
    assert stored is not None and stored.kind == "channel"
    assert stored.team_id == "19:team-sales@thread.tacv2" and stored.user_id is None


async def test_a_stored_reference_reaches_the_conversation_later(teams: Harness) -> None:
    await teams.post(installation("add", teams.stub.url))
    stored = await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA)
    assert stored is not None
    before = len(teams.stub.sent)

    t = Translator("en")
    card = cards.notice_card(t, "Acme Dental: 3 of 21 steps done")
    activity_id = await teams.bot.sender.send(stored, card_message(card, "3 of 21 steps done"))

    (sent,) = teams.stub.sent[before:]
    assert sent.kind == "send"  # a new message in the chat, not a reply to anything
    assert sent.conversation_id == personal_chat(MARTA)["id"] and sent.activity_id == activity_id
    assert sent.activity["recipient"]["id"] == MARTA
    assert sent.activity["from"]["id"] == "28:onboarding-bot"
    assert sent.activity["attachments"][0]["content"] == card

    done = cards.notice_card(t, "Acme Dental: all 21 steps done")
    await teams.bot.sender.update(stored, activity_id, card_message(done, "all 21 steps done"))
    updated = teams.stub.sent[-1]
    assert updated.kind == "update" and updated.activity_id == activity_id
    assert updated.activity["attachments"][0]["content"] == done


async def test_uninstalling_stops_proactive_messages_there(teams: Harness) -> None:
    await teams.post(bot_added(teams.stub.url))
    assert await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA)

    assert (await teams.post(installation("remove", teams.stub.url))).status == 202
    assert await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA) is None
    kept = await teams.bot.deps.conversations.get(
        platform="teams", conversation_id=personal_chat(MARTA)["id"]
    )
    assert kept is not None and kept.removed

    await teams.post(installation("add", teams.stub.url))  # installed again: reachable again
    assert await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA)


def test_a_card_message_holds_the_card_itself_not_its_json_text() -> None:
    card = cards.notice_card(Translator("en"), "hello")
    activity = card_message(card, "hello")
    assert isinstance(activity, Activity)
    dumped = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["attachments"][0]["content"] == card
