"""The form's pages in the dialog: errors beside their fields with nothing typed lost, typeahead
for the person filling the form only, and the saved draft offered on the next "onboard"."""

from __future__ import annotations

import pytest

from handlers.teams.form.render import page_card, resume_card
from services.i18n import Translator
from services.onboarding import form
from services.onboarding.fields import page_fields
from services.onboarding.outcomes import PageView
from services.onboarding.request import Issue
from tests.handlers.teams.form_support import (
    button,
    inputs,
    next_card,
    open_dialog,
    press,
    search,
    texts,
)
from tests.handlers.teams.reading import dialog_card
from tests.handlers.teams.test_form_flow import CHANNEL, installed, people_page
from tests.onboarding_support import company_id, contacts_of, technicians
from tests.teams_harness import Harness
from tests.teams_stub import DAN, card_problems

LONG_TAX_ID = "74-" + "7" * 57  # the field takes 50 characters


async def test_an_error_is_shown_beside_its_field_and_nothing_typed_is_lost(
    teams: Harness,
) -> None:
    tenant = teams.sandbox.tenant
    people = contacts_of(tenant, company_id(tenant, "Acme Dental"))
    await installed(teams)
    card = await people_page(teams)
    card = await next_card(teams, card, {
        "team_add": ",".join(str(i) for i in technicians(tenant, 2)),
        "primary_contact": str(people[0]["id"]), "taskfire": "false",
    }, conversation=CHANNEL)  # fmt: skip
    card = await next_card(teams, card, {"bill_to_parent": "false"}, conversation=CHANNEL)
    assert texts(card)[0] == "Invoice settings · 4/5"

    again = await next_card(teams, card, {"tax_id": LONG_TAX_ID, "invoice_template": "2",
                                          "bill_to": "company"}, conversation=CHANNEL)  # fmt: skip

    assert texts(again)[0] == "Invoice settings · 4/5"  # the same page
    body = again["body"]
    at = next(i for i, e in enumerate(body) if e.get("id") == "tax_id")
    assert body[at]["value"] == LONG_TAX_ID  # what was typed, even though it is refused
    assert body[at]["errorMessage"] == "At most 50 characters."
    assert body[at + 1]["inlines"][0] == {"type": "TextRun", "text": "At most 50 characters.",
                                          "color": "Attention"}  # fmt: skip
    assert inputs(again)["invoice_template"]["value"] == "2"
    assert inputs(again)["bill_to"]["value"] == "company"


async def test_typeahead_answers_the_person_filling_the_form_and_nobody_else(
    teams: Harness,
) -> None:
    tenant = teams.sandbox.tenant
    people = contacts_of(tenant, company_id(tenant, "Acme Dental"))
    await installed(teams)
    card = await people_page(teams)
    contact = inputs(card)["primary_contact"]
    dataset = contact["choices.data"]["dataset"]
    assert contact["choices.data"]["type"] == "Data.Query"
    assert dataset.startswith("onboard:") and dataset.endswith(":primary_contact")
    name = people[0]["firstName"]

    reply = await teams.post(search(dataset, name[:3], teams.stub.url, conversation=CHANNEL))
    assert reply.status == 200 and reply.seconds < 5
    assert reply.body["type"] == "application/vnd.microsoft.search.searchResponse"
    results = reply.body["value"]["results"]
    assert str(people[0]["id"]) in {r["value"] for r in results}
    assert all(name[:3].casefold() in r["title"].casefold() for r in results)

    other = await teams.post(search(dataset, name[:3], teams.stub.url, user_id=DAN,
                                    conversation=CHANNEL))  # fmt: skip
    assert other.status == 200 and other.body["value"]["results"] == []


async def test_the_saved_draft_is_offered_on_the_next_onboard(teams: Harness) -> None:
    await installed(teams)
    await people_page(teams)  # the first page saved; the dialog closed

    offer = await open_dialog(teams, "", conversation=CHANNEL)
    assert any("saved onboarding of Acme Dental" in x for x in texts(offer))
    assert [a["title"] for a in offer["actions"]] == ["Resume", "Start over"]

    resumed = dialog_card((await press(teams, offer, "onboard.resume",
                                       conversation=CHANNEL)).body)  # fmt: skip
    assert texts(resumed)[0] == "People · 2/5"
    back = dialog_card((await press(teams, resumed, "onboard.back", conversation=CHANNEL)).body)
    assert texts(back)[0].startswith("Client · 1/")
    assert inputs(back)["client_type"]["value"] == "managed"

    fresh = dialog_card((await press(teams, await open_dialog(teams, "", conversation=CHANNEL),
                                     "onboard.start_over", conversation=CHANNEL)).body)  # fmt: skip
    assert texts(fresh)[0].startswith("Client ·") and "value" not in inputs(fresh)["company"]


@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_page_renders_in_both_languages_as_teams_accepts_it(locale: str) -> None:
    t = Translator(locale)
    answers = {"client_type": "managed", "company": 1, "services": {"1": 3},
               "billing_contracts": [{}]}  # fmt: skip
    for number, page in enumerate(form.PAGES, 1):
        fields = page_fields(page.id, answers)
        issues = [Issue(tuple(f.path.split(".")), "errors.required") for f in fields[:1]]
        view = PageView("d1", page.id, number, len(form.PAGES), fields, number == 1,
                        number == len(form.PAGES), issues=issues)  # fmt: skip
        card = page_card(view, t)
        assert card_problems(card) == [], page.id
        assert "q." not in str(texts(card)) and "errors." not in str(card)
        assert button(card, "onboard.next")["draft"] == "d1"
    assert card_problems(resume_card(t, "d1", "Acme", "client")) == []
