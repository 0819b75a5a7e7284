"""Client Portal passwords reach the requester once, privately, even when the onboarding began in
a team channel and the requester never opened a personal chat with the app."""

from __future__ import annotations

from services.store.tables import Onboarding
from tests.handlers.teams.form_support import break_fix_review, press, texts
from tests.handlers.teams.reading import card_of
from tests.onboarding_support import company_id, contacts_of
from tests.teams_harness import Harness
from tests.teams_stub import MARTA, TENANT, Sent, channel, message, personal_chat, team_data

CHANNEL = channel("onboarding")


async def portal_onboarding_in_channel(teams: Harness, locale: str = "en-US") -> str:
    """ "onboard" in a team channel (the app never opened one to one with Marta), with one
    Client Portal user, applied; the contact's name."""
    await teams.post(message("onboard", teams.stub.url, mention=True, conversation=CHANNEL,
                             channel_data=team_data("onboarding"), locale=locale))  # fmt: skip
    await teams.settle()
    tenant = teams.sandbox.tenant
    contact = contacts_of(tenant, company_id(tenant, "Delta Print Works"))[0]
    people = {"primary_contact": str(contact["id"]), "portal_contacts": str(contact["id"]),
              "portal_security_level": "1"}  # fmt: skip
    review = await break_fix_review(teams, people=people, conversation=CHANNEL, locale=locale)
    await press(teams, review, "onboard.apply", conversation=CHANNEL, locale=locale)
    await teams.settle()
    async with teams.container.db.transaction() as session:
        from sqlalchemy import select

        [status] = (await session.execute(select(Onboarding.status))).scalars().all()
    assert status == "applied"
    return f"{contact['firstName']} {contact['lastName']}"


def with_password(sent: Sent) -> bool:
    shown = str(sent.activity)
    return "Client Portal password for" in shown or "Contraseña del Portal del cliente de" in shown


async def test_the_bot_opens_a_personal_chat_to_deliver_the_passwords(teams: Harness) -> None:
    assert await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA) is None
    await portal_onboarding_in_channel(teams)

    [created] = teams.stub.created
    assert [m["id"] for m in created["members"]] == [MARTA]
    assert created["tenantId"] == TENANT and created["bot"]["id"] == "28:onboarding-bot"
    [secret] = [s for s in teams.stub.sent if with_password(s)]
    assert secret.conversation_id == personal_chat(MARTA)["id"] and secret.kind == "send"
    assert secret.activity["recipient"]["id"] == MARTA
    assert secret.activity["textFormat"] == "plain"
    # The chat is remembered: later passwords, reminders and notices go there without asking.
    stored = await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA)
    assert stored is not None and stored.conversation_id == personal_chat(MARTA)["id"]


async def test_when_teams_refuses_the_chat_the_channel_is_told_without_the_passwords(
    teams: Harness, expected_errors: list[str]
) -> None:
    expected_errors.append("Error accessing 'v3/conversations': 403")  # the SDK's, then it raises
    teams.stub.refuse_create = True
    contact = await portal_onboarding_in_channel(teams, locale="es-ES")

    assert len(teams.stub.created) == 1
    assert not [s for s in teams.stub.sent if with_password(s)]
    notices = [s for s in teams.stub.messages()
               if s.conversation_id == CHANNEL["id"] and "no se pudieron enviar" in str(s.activity)]  # fmt: skip
    [notice] = notices
    [said] = [x for x in texts(card_of(notice)) if "no se pudieron enviar" in x]
    assert contact in said and "Restablézcalas en Autotask" in said
    assert await teams.bot.deps.conversations.personal(platform="teams", user_id=MARTA) is None
