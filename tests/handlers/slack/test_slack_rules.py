"""Slack's rules: signatures, retries, the 3-second deadline, languages, drafts, who may onboard."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.store import repositories as repo
from tests.handlers.slack.test_flow import break_fix_review, people_page
from tests.onboarding_support import company_id, contacts_of
from tests.slack_harness import Harness, open_form, submit
from tests.slack_stub import (
    checkbox,
    command_body,
    multi,
    radio,
    select,
    signed,
    state,
    suggestion_body,
)


async def test_a_bad_or_stale_signature_is_rejected(slack: Harness) -> None:
    body = command_body("Acme Dental")
    assert (await slack.post(body, signed(body, secret="not-the-secret"))).status == 401
    assert (await slack.post(body, signed(body, timestamp=int(time.time()) - 600))).status == 401
    assert slack.stub.named("views.open") == []


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "", "1e9", "９９９９９９９９９９", "1" * 5000, "-1700000000", " 1700000000"],
)
async def test_an_unreadable_timestamp_is_refused_before_anything_runs(
    slack: Harness, timestamp: str
) -> None:
    """No 500 and no traceback (the Slack suite fails on any ERROR logged): a 401, as for a bad
    signature."""
    body = command_body("Acme Dental")
    headers = {**signed(body), "X-Slack-Request-Timestamp": timestamp}
    reply = await slack.post(body, headers)
    assert reply.status == 401
    await slack.settle()
    assert slack.stub.named("views.open") == []


async def test_a_retry_of_an_acknowledged_request_starts_nothing_new(slack: Harness) -> None:
    body = command_body("Acme Dental")
    assert (await slack.post(body)).status == 200
    await slack.stub.wait_for("views.open")
    reply = await slack.post(body, {**signed(body), **RETRY})  # the same delivery, signed anew
    assert reply.status == 200
    await slack.settle()
    assert len(slack.stub.named("views.open")) == 1


async def test_a_retry_of_a_delivery_that_failed_is_handled(slack: Harness) -> None:
    """The first delivery never got a 2xx (here: refused, as when it reached a replica whose
    clock was off, or was lost on the way): Slack's retry is the only chance to handle it."""
    body = command_body("Acme Dental")
    assert (await slack.post(body, signed(body, secret="rotated-secret"))).status == 401
    reply = await slack.post(body, {**signed(body), **RETRY})
    assert reply.status == 200
    [opened] = await slack.stub.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "onboard_loading"
    # ...and a second retry of that same delivery, now acknowledged, is dropped.
    await slack.post(body, {**signed(body), "X-Slack-Retry-Num": "2"})
    await slack.settle()
    assert len(slack.stub.named("views.open")) == 1


async def test_event_retries_are_matched_by_event_id(slack: Harness) -> None:
    def home_opened(event_id: str, event_time: int) -> str:
        return json.dumps({"type": "event_callback", "team_id": "T1", "event_id": event_id,
                           "event_time": event_time,
                           "event": {"type": "app_home_opened", "user": "U1", "tab": "home"}})  # fmt: skip

    first = home_opened("Ev100", 1)
    json_headers = {"Content-Type": "application/json"}
    assert (await slack.post(first, {**signed(first), **json_headers})).status == 200
    await slack.stub.wait_for("views.publish")
    again = home_opened("Ev100", 2)  # a retry need not be byte for byte the same: its id is
    await slack.post(again, {**signed(again), **json_headers, **RETRY})
    other = home_opened("Ev101", 3)
    await slack.post(other, {**signed(other), **json_headers, **RETRY})  # never seen: handled
    await slack.stub.wait_for("views.publish", 2)
    await slack.settle()
    assert len(slack.stub.named("views.publish")) == 2


async def test_the_modal_opens_before_any_autotask_call_even_when_autotask_is_slow(
    slack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[float] = []
    inner = slack.sandbox.handle_async_request

    async def timed(request: httpx.Request) -> httpx.Response:
        started.append(time.monotonic())
        return await inner(request)

    monkeypatch.setattr(slack.sandbox, "handle_async_request", timed)  # watch when calls start
    slack.sandbox.latency = 5.0
    reply = await slack.command("Acme Dental")
    assert reply.status == 200 and reply.seconds < 1.0
    [opened] = await slack.stub.wait_for("views.open", timeout=3)
    assert opened.args["view"]["callback_id"] == "onboard_loading"
    assert not started or opened.at < min(started)
    slack.sandbox.latency = 0.0  # let the background work finish quickly
    await slack.stub.wait_for("views.update", timeout=20)


async def test_typeahead_answers_from_cache_in_under_a_second_with_slow_autotask(
    slack: Harness,
) -> None:
    view = await open_form(slack)  # loads the company list into the cache
    acme = company_id(slack.sandbox.tenant, "Acme Dental")
    view = await submit(
        slack,
        view,
        state(
            company=select(acme), client_type=radio("managed"), convert_to_customer=checkbox(True)
        ),
    )
    await slack.container.options.options(
        "contacts", {"company": acme}
    )  # what choosing the company warms
    slack.sandbox.latency = 5.0
    for action, query in (("company", "acme"), ("primary_contact", "")):
        started = time.monotonic()
        reply = await slack.post(suggestion_body(action, query, view["private_metadata"]))
        assert reply.status == 200
        assert time.monotonic() - started < 1.0
        assert reply.body["options"], action
    assert (
        any(o["text"]["text"] == "Acme Dental" for o in reply.body["options"]) is False
    )  # contacts, not companies
    slack.sandbox.latency = 0.0


async def test_typeahead_answers_within_slacks_3_seconds_even_when_its_sender_is_slow_to_look_up(
    slack: Harness,
) -> None:
    # Who is asking is part of the answer's time: a person not looked up yet, on a slow Web API.
    view = await open_form(slack)
    slack.stub.latency = 4.0
    reply = await slack.post(
        suggestion_body("company", "acme", view["private_metadata"], user_id="U2")
    )
    assert reply.status == 200 and reply.seconds < 3.0
    assert reply.body["options"] == []  # and not U1's form searched for U2 either
    slack.stub.latency = 0.0
    await slack.settle()


async def test_a_page_answers_within_slacks_3_seconds_even_when_its_sender_is_slow_to_look_up(
    slack: Harness,
) -> None:
    view = await people_page(slack, "U1")
    slack.stub.latency = 4.0  # U2 is not known yet: users.info, on a slow Web API
    reply = await slack.payload(slack.view_submission(view, state(), user_id="U2"))
    assert reply.status == 200 and reply.seconds < 3.0
    assert reply.body["response_action"] == "update"  # "checking", then the answer follows
    slack.stub.latency = 0.0
    await slack.stub.wait_until(  # then the refusal, not U1's page, in U2's language
        "views.update", lambda a: "Este formulario pertenece a otra persona" in str(a["view"])
    )
    await slack.settle()


async def test_validation_errors_come_back_beside_the_field_in_the_users_language(
    slack: Harness,
) -> None:
    slack.stub.latency = 0.05  # as slow as Slack really is: each modal fills in after the ack
    tenant = slack.sandbox.tenant
    stranger = contacts_of(tenant, company_id(tenant, "Lakeside Realty"))[0]["id"]
    for user_id, expected in (
        ("U1", "This contact does not belong to Acme Dental."),
        ("U2", "Este contacto no pertenece a Acme Dental."),
    ):
        view = await people_page(slack, user_id)
        reply = await slack.payload(
            slack.view_submission(view, state(primary_contact=select(stranger)), user_id=user_id)
        )
        assert reply.status == 200 and reply.seconds < 3
        assert reply.body == {"response_action": "errors", "errors": {"primary_contact": expected}}


async def test_someone_else_can_neither_submit_nor_search_through_your_form(
    slack: Harness,
) -> None:
    mine = await people_page(slack, "U1")
    acme = company_id(slack.sandbox.tenant, "Acme Dental")
    contact = contacts_of(slack.sandbox.tenant, acme)[0]["id"]
    forged = slack.view_submission(mine, state(primary_contact=select(contact)), user_id="U2")
    reply = await slack.payload(forged)  # a signed payload naming Marta's draft, sent by Dan
    assert reply.body["response_action"] == "update"
    assert "Este formulario pertenece a otra persona" in str(reply.body["view"]["blocks"])
    async with slack.container.db.transaction() as session:
        draft = await repo.latest_draft(session, platform="slack", user_id="U1")
    assert draft is not None and draft.page == "people" and not draft.answers.get("primary_contact")
    for user_id, expected in (("U2", False), ("U1", True)):
        body = suggestion_body("primary_contact", "", mine["private_metadata"], user_id=user_id)
        assert bool((await slack.post(body)).body["options"]) is expected


async def test_back_keeps_every_answer(slack: Harness) -> None:
    view = await people_page(slack, "U1")
    contact = contacts_of(slack.sandbox.tenant, company_id(slack.sandbox.tenant, "Acme Dental"))[0][
        "id"
    ]
    values = state(primary_contact=select(contact))
    await slack.payload(slack.block_action(view, "nav_back", "people", values=values))
    await slack.stub.wait_for("views.update", 2)
    client_page = slack.stub.named("views.update")[-1].args["view"]
    assert client_page["blocks"][1]["block_id"] == "company"
    view = await submit(slack, {**client_page, "id": "V1"}, {"values": {}})
    primary = next(b for b in view["blocks"] if b.get("block_id") == "primary_contact")
    assert primary["element"]["initial_option"]["value"] == str(contact)


async def test_a_closed_draft_is_offered_again_and_resumes_where_it_was(slack: Harness) -> None:
    view = await people_page(slack, "U1")
    closed = {
        "type": "view_closed",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "view": {
            "id": "V1",
            "callback_id": "onboard_page",
            "private_metadata": view["private_metadata"],
        },
    }
    assert (await slack.payload(closed)).status == 200
    updates = len(slack.stub.named("views.update"))
    await slack.command("")
    calls = await slack.stub.wait_for("views.update", updates + 1)
    offer = calls[-1].args["view"]
    assert offer["callback_id"] == "onboard_resume" and "Acme Dental" in str(offer["blocks"])
    await slack.payload(slack.block_action({**offer, "id": "V2"}, "draft_resume", "x"))
    calls = await slack.stub.wait_for("views.update", updates + 2)
    resumed = calls[-1].args["view"]
    assert "team_add" in {b.get("block_id") for b in resumed["blocks"]}  # the people page again


async def test_someone_who_is_not_an_autotask_resource_is_told_why(slack: Harness) -> None:
    await slack.command("Acme Dental", user_id="U3")
    calls = await slack.stub.wait_for("views.update")
    text = str(calls[-1].args["view"]["blocks"])
    assert "visitor@elsewhere.example may not onboard clients" in text


async def test_help_status_and_list(slack: Harness) -> None:
    for text in ("help", "status", "list"):
        reply = await slack.command(text)
        assert reply.status == 200
    calls = await slack.stub.wait_for("respond", 3)
    texts = [c.args.get("text", "") for c in calls]
    assert "/onboard status [company]" in texts[0]
    assert texts[1] == "No onboardings yet."


async def test_app_home_lists_drafts(slack: Harness) -> None:
    await people_page(slack, "U1")
    event = {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event_time": 1,
        "event": {"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"},
    }
    body = json.dumps(event)
    reply = await slack.post(body, {**signed(body), "Content-Type": "application/json"})
    assert reply.status == 200
    [published] = await slack.stub.wait_for("views.publish")
    assert published.args["user_id"] == "U1"
    assert "Acme Dental" in str(published.args["view"]["blocks"])


async def test_autotask_text_is_escaped_so_it_pings_no_one(slack: Harness) -> None:
    acme = company_id(slack.sandbox.tenant, "Acme Dental")
    slack.sandbox.tenant.table("Companies")[acme]["companyName"] = "<!channel> & Co"
    await slack.container.options.companies()
    view = await break_fix_review(slack, "<!channel> & Co")
    mrkdwn = " ".join(_mrkdwn(view["blocks"]))
    assert "&lt;!channel&gt; &amp; Co" in mrkdwn and "<!channel>" not in mrkdwn


def _mrkdwn(node: object) -> list[str]:
    """Every mrkdwn text in a view: the only place Slack turns <!channel> into a ping."""
    if isinstance(node, dict):
        found = [str(node["text"])] if node.get("type") == "mrkdwn" else []
        return found + [t for v in node.values() for t in _mrkdwn(v)]
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn(item)]
    return []


async def test_doctor_checks_the_slack_token_and_scopes(slack: Harness) -> None:
    from bot.doctor import run_checks

    checks = {c.name: c for c in await run_checks(slack.container)}
    assert checks["Slack token"].ok and "MSP" in checks["Slack token"].detail
    assert checks["Slack scopes"].ok, checks["Slack scopes"].detail


async def test_a_dependent_answer_redraws_the_page_with_its_follow_up_questions(
    slack: Harness,
) -> None:
    view = await people_page(slack, "U1")
    assert "portal_security_level" not in {b.get("block_id") for b in view["blocks"]}
    contact = contacts_of(slack.sandbox.tenant, company_id(slack.sandbox.tenant, "Acme Dental"))[0][
        "id"
    ]
    before = len(slack.stub.named("views.update"))
    values = state(portal_contacts=multi([contact]))
    await slack.payload(slack.block_action(view, "portal_contacts", values=values))
    calls = await slack.stub.wait_for("views.update", before + 1)
    blocks = {b.get("block_id") for b in calls[-1].args["view"]["blocks"]}
    assert {"portal_security_level", "portal_date_format"} <= blocks


async def test_progress_goes_to_a_dm_when_the_bot_is_not_in_the_channel(slack: Harness) -> None:
    slack.stub.not_in_channel.add("C9")
    view = await break_fix_review(slack, channel_id="C9")
    await slack.payload(slack.view_submission(view, {"values": {}}))
    posted = await slack.stub.wait_until("chat.postMessage", lambda a: a.get("channel") == "DU1")
    assert "Onboarding Delta Print Works" in posted.args["text"]


async def test_onboarders_limits_who_may_start(slack: Harness) -> None:
    from services.directory import Directory

    directory = Directory(slack.container.reference, ["lead@msp.example"])
    assert (await directory.person("LEAD@msp.example")).allowed
    marta = await directory.person("marta.ruiz@brightline-it.example")  # a resource, but not listed
    assert not marta.allowed and marta.resource_id is not None
    assert not (await directory.person(None)).allowed
    everyone = Directory(slack.container.reference)  # unset: every active resource may
    assert (await everyone.person("marta.ruiz@brightline-it.example")).allowed


DENIED = "The logged in Resource does not have the adequate permissions"


async def test_autotask_refusing_while_opening_says_so_and_what_to_do_in_the_modal(
    slack: Harness,
) -> None:
    from services.autotask.sandbox import Fault

    slack.sandbox.fail_next(Fault(status=500, errors=[DENIED], path="Resources/query"))
    await slack.command("Acme Dental")
    calls = await slack.stub.wait_for("views.update")
    text = str(calls[-1].args["view"]["blocks"])
    assert "Autotask refused the request (Resources query)" in text and DENIED in text
    assert "check the API user's permissions" in text and "could not be reached" not in text


async def test_autotask_down_while_checking_a_page_keeps_the_modal_and_the_answers(
    slack: Harness,
) -> None:
    from services.autotask.sandbox import Fault

    view = await open_form(slack)
    acme = company_id(slack.sandbox.tenant, "Acme Dental")
    slack.sandbox.fail_next(Fault(status=500, errors=[DENIED], method="GET", entity="Companies"))
    values = state(
        company=select(acme), client_type=radio("managed"), convert_to_customer=checkbox(True)
    )
    reply = await slack.payload(slack.view_submission(view, values))
    assert reply.body["response_action"] == "errors"
    assert DENIED in reply.body["errors"]["company"]
    retried = await submit(slack, view, values)  # Autotask is back: the same submission goes on
    assert "team_add" in {b.get("block_id") for b in retried["blocks"]}


async def test_onboarders_may_name_a_slack_user_group(tmp_path: Path) -> None:
    from tests.slack_harness import running_bot

    async with running_bot(tmp_path, onboarders=["S0ONBOARD"]) as bot:
        bot.stub.groups["S0ONBOARD"] = ["U2"]
        await bot.command("Acme Dental", user_id="U1")  # an Autotask resource, but not in the group
        first = await bot.stub.wait_for("views.update")
        assert "may not onboard clients" in str(first[-1].args["view"]["blocks"])
        await bot.command("Acme Dental", user_id="U2")
        second = await bot.stub.wait_for("views.update", 2)
        assert second[-1].args["view"]["callback_id"] == "onboard_page"
        await bot.settle()


async def test_onboard_text_naming_several_organizations_lets_you_pick_among_them(
    slack: Harness,
) -> None:
    tenant = slack.sandbox.tenant
    tenant.table("Companies")[company_id(tenant, "Blue Ridge Logistics")]["companyName"] = (
        "Acme Logistics"
    )
    for user_id, notice in (
        ("U1", '2 organizations match "Acme": open the client company list to pick one'),
        ("U2", '2 organizaciones coinciden con "Acme": abra la lista Organización (cliente)'),
    ):
        view, company = await _opened_with(slack, "Acme", user_id, notice)
        assert "initial_option" not in company and company["min_query_length"] == 0
        opened = suggestion_body("company", "", view["private_metadata"], user_id=user_id)
        offered = [o["text"]["text"] for o in (await slack.post(opened)).body["options"]]
        assert offered == ["Acme Dental", "Acme Logistics"]  # the matches, when the list opens
        typed = suggestion_body("company", "delta", view["private_metadata"], user_id=user_id)
        assert [o["text"]["text"] for o in (await slack.post(typed)).body["options"]] == [
            "Delta Print Works"
        ]  # typing still searches every organization
    picked = state(
        company=select(company_id(tenant, "Acme Logistics")),
        client_type=radio("managed"),
        convert_to_customer=checkbox(True),
    )
    people = await submit(slack, view, picked, user_id="U2")
    assert "team_add" in {b.get("block_id") for b in people["blocks"]}


async def test_onboard_text_naming_one_organization_preselects_it_and_none_says_so(
    slack: Harness,
) -> None:
    tenant = slack.sandbox.tenant
    for text, expected in (
        ("orchard", "Orchard Family Dental"),  # the only one containing it
        ("Harbor Group", "Harbor Group"),  # its own name, though three sites contain it too
    ):
        view = await open_form(slack, text)
        company = _company_select(view)
        assert company["initial_option"]["value"] == str(company_id(tenant, expected))
        assert "match" not in str(view["blocks"])
    for user_id, notice in (
        ("U1", 'No organization matches "Zebra Labs".'),
        ("U2", 'Ninguna organización coincide con "Zebra Labs".'),
    ):
        _, company = await _opened_with(slack, "Zebra Labs", user_id, notice)
        assert "initial_option" not in company and company["min_query_length"] == 1


async def _opened_with(
    slack: Harness, text: str, user_id: str, notice: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``/onboard <text>``'s first page, which must show ``notice``, and its company select."""
    view = await open_form(slack, text, user_id=user_id)
    assert notice in str(view["blocks"])
    return view, _company_select(view)


def _company_select(view: dict[str, Any]) -> dict[str, Any]:
    return dict(next(b for b in view["blocks"] if b.get("block_id") == "company")["element"])
