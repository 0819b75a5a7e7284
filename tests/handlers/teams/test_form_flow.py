"""From "onboard" in Teams to an applied onboarding in the sandbox, through the real server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select as sql_select

from services.store.tables import Onboarding
from tests.handlers.teams.form_support import (
    inputs,
    next_card,
    open_dialog,
    press,
    texts,
)
from tests.handlers.teams.reading import card_of, dialog_card
from tests.onboarding_support import company_id, contacts_of, devices_of, resource_id, technicians
from tests.teams_harness import Harness
from tests.teams_stub import MARTA, Sent, bot_added, channel, message, personal_chat, team_data

CHANNEL = channel("onboarding")


async def installed(teams: Harness) -> None:
    """The app installed in Marta's personal chat, and "onboard" typed in a team channel."""
    await teams.post(bot_added(teams.stub.url))
    await teams.post(message("onboard Acme Dental", teams.stub.url, mention=True,
                             conversation=CHANNEL, channel_data=team_data("onboarding")))  # fmt: skip
    await teams.settle()


def progress(sent: Sent) -> bool:
    return sent.conversation_id == CHANNEL["id"] and bool(sent.activity.get("attachments"))


async def people_page(teams: Harness) -> dict[str, Any]:
    card = await open_dialog(teams, conversation=CHANNEL)
    acme = company_id(teams.sandbox.tenant, "Acme Dental")
    assert inputs(card)["company"]["value"] == str(acme)  # "onboard Acme Dental" picked it
    return await next_card(teams, card, {"client_type": "managed", "convert_to_customer": "true"},
                           conversation=CHANNEL)  # fmt: skip


async def test_onboard_a_managed_client_end_to_end(teams: Harness) -> None:
    tenant = teams.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    people = contacts_of(tenant, acme)
    cis = devices_of(tenant, acme)
    await installed(teams)

    card = await people_page(teams)
    assert "team_add" in inputs(card)
    ids = ",".join(str(i) for i in technicians(tenant, 2))
    card = await next_card(teams, card, {
        "team_add": ids, "primary_contact": str(people[0]["id"]),
        "portal_contacts": str(people[0]["id"]), "portal_security_level": "1",
        "taskfire": "false",
    }, conversation=CHANNEL)  # fmt: skip
    card = await next_card(teams, card, {"bill_to_parent": "false"}, conversation=CHANNEL)
    card = await next_card(teams, card, {
        "billing_admins": str(resource_id(tenant, "Beatriz", "Lima")), "invoice_template": "2",
        "tax_region": "1", "tax_id": "74-7654321", "bill_to": "company",
        "attention_contact": str(people[1]["id"]), "tax_exempt": "false",
    }, conversation=CHANNEL)  # fmt: skip
    assert [a["title"] for a in card["actions"]][-1] == "Review"
    # Choosing the service adds its units and devices fields: Update redraws the page.
    card = dialog_card((await press(teams, card, "onboard.change", {
        "sla": "2", "contract_name": "Acme Dental - Managed Services",
        "contract_start": "2027-01-01", "contract_end": "2027-12-31", "contract_period": "1",
        "services": "1",
    }, conversation=CHANNEL)).body)  # fmt: skip
    assert {"services.1", "devices.1"} <= set(inputs(card))
    assert inputs(card)["contract_name"]["value"] == "Acme Dental - Managed Services"
    review = await next_card(teams, card, {"services.1": "12", "devices.1": ",".join(
        str(c) for c in cis[:3])}, conversation=CHANNEL)  # fmt: skip
    shown = " ".join(texts(review))
    assert "Convert Acme Dental to Customer" in shown and "12 x Managed Workstation" in shown

    reply = await press(teams, review, "onboard.apply", conversation=CHANNEL)
    assert reply.body["task"]["type"] == "message"
    assert "progress in the card in this conversation" in reply.body["task"]["value"]
    await teams.settle()

    cards = [s for s in teams.stub.sent if progress(s)]
    posted = [s for s in cards if s.kind == "send" and "Onboarding Acme Dental" in str(s.activity)]
    assert len(posted) == 1
    updates = [s for s in cards if s.kind == "update" and s.activity_id == posted[0].activity_id]
    final = card_of(updates[-1])
    assert "Status: applied" in texts(final)
    assert [a["title"] for a in final["actions"]] == ["Open in Autotask"]
    # The passwords went to Marta's personal chat, never to the channel.
    secrets = [s for s in teams.stub.messages() if "Client Portal password" in str(s.activity)]
    assert [s.conversation_id for s in secrets] == [personal_chat(MARTA)["id"]]
    assert secrets[0].activity["textFormat"] == "plain"

    company = tenant.get("Companies", acme)
    assert company is not None and company["companyType"] == 1 and company["taxID"] == "74-7654321"
    [contract] = [c for c in tenant.table("Contracts").values() if c["companyID"] == acme]
    linked = [d for d in tenant.table("ConfigurationItems").values()
              if d.get("contractID") == contract["id"]]  # fmt: skip
    assert len(linked) == 3


async def test_onboard_a_break_fix_client_end_to_end(teams: Harness) -> None:
    tenant = teams.sandbox.tenant
    delta = company_id(tenant, "Delta Print Works")
    await teams.post(message("onboard Delta Print Works", teams.stub.url))
    await teams.settle()
    card = await open_dialog(teams, "Delta Print Works", locale="es-ES")
    card = await next_card(teams, card, {"company": str(delta), "client_type": "break_fix",
                                         "convert_to_customer": "true"}, locale="es-ES")  # fmt: skip
    for _ in range(4):
        card = await next_card(teams, card, locale="es-ES")
    assert [a["title"] for a in card["actions"]] == ["Atrás", "Aplicar"]
    reply = await press(teams, card, "onboard.apply", locale="es-ES")
    assert "ha comenzado" in reply.body["task"]["value"]
    await teams.settle()

    final = card_of([s for s in teams.stub.sent if s.kind == "update"][-1])
    assert "Estado: aplicada" in texts(final) or any("Estado:" in x for x in texts(final))
    company = tenant.get("Companies", delta)
    assert company is not None and company["companyType"] == 1
    async with teams.container.db.transaction() as session:
        [status] = (await session.execute(sql_select(Onboarding.status))).scalars().all()
    assert status == "applied"
