"""From /onboard to an applied onboarding, through signed requests into the real server."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select

from services.store.tables import Onboarding
from tests.onboarding_support import company_id, contacts_of, devices_of, resource_id, technicians
from tests.slack_harness import Harness, open_form, submit
from tests.slack_stub import (
    button_value,
    checkbox,
    date_input,
    message_click,
    multi,
    number,
    radio,
    select,
    state,
    static,
    text_input,
)


async def people_page(slack: Harness, user_id: str = "U1") -> dict[str, Any]:
    """``/onboard Acme Dental`` as a managed-services client, submitted to its People page."""
    view = await open_form(slack, "Acme Dental", user_id=user_id)
    acme = company_id(slack.sandbox.tenant, "Acme Dental")
    return await submit(
        slack,
        view,
        state(
            company=select(acme), client_type=radio("managed"), convert_to_customer=checkbox(True)
        ),
        user_id=user_id,
    )


def contract(kind: int, name: str, start: str, end: str) -> dict[str, Any]:
    return state(
        billing_contracts__0__type=static(kind),
        billing_contracts__0__name=text_input(name),
        billing_contracts__0__start=date_input(start),
        billing_contracts__0__end=date_input(end),
    )


async def break_fix_review(
    slack: Harness,
    company: str = "Delta Print Works",
    *,
    with_contract: dict[str, Any] | None = None,
    channel_id: str = "C1",
) -> dict[str, Any]:
    """``/onboard`` a break/fix client straight through to its review page."""
    view = await open_form(slack, company, channel_id=channel_id)
    view = await submit(
        slack,
        view,
        state(
            company=select(company_id(slack.sandbox.tenant, company)),
            client_type=radio("break_fix"),
            convert_to_customer=checkbox(True),
        ),
    )
    for _ in range(3):
        view = await submit(slack, view, {"values": {}})
    view = await submit(slack, view, with_contract or {"values": {}})
    assert view["callback_id"] == "onboard_review", view
    return view


async def test_onboard_a_managed_client_end_to_end(slack: Harness) -> None:
    tenant = slack.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    people = contacts_of(tenant, acme)
    cis = devices_of(tenant, acme)

    view = await open_form(slack)
    assert view["callback_id"] == "onboard_page"
    company_block = next(b for b in view["blocks"] if b.get("block_id") == "company")
    assert company_block["element"]["initial_option"]["value"] == str(
        acme
    )  # "/onboard Acme Dental"

    view = await submit(
        slack,
        view,
        state(
            company=select(acme), client_type=radio("managed"), convert_to_customer=checkbox(True)
        ),
    )
    assert "team_add" in {b.get("block_id") for b in view["blocks"]}
    view = await submit(
        slack,
        view,
        state(
            team_add=multi(technicians(tenant, 2)),
            primary_contact=select(people[0]["id"]),
            portal_contacts=multi([people[0]["id"]]),
            portal_security_level=static(1),
            taskfire=checkbox(False),
        ),
    )
    view = await submit(slack, view, state(bill_to_parent=checkbox(False)))
    view = await submit(
        slack,
        view,
        state(
            billing_admins=multi([resource_id(tenant, "Beatriz", "Lima")]),
            invoice_template=static(2),
            tax_region=static(1),
            tax_id=text_input("74-7654321"),
            bill_to=radio("company"),
            attention_contact=select(people[1]["id"]),
            tax_exempt=checkbox(False),
        ),
    )
    assert view["submit"]["text"] == "Review"
    view = await submit(
        slack,
        view,
        state(
            sla=static(2),
            contract_name=text_input("Acme Dental - Managed Services"),
            contract_start=date_input("2027-01-01"),
            contract_end=date_input("2027-12-31"),
            contract_period=static(1),
            services=multi([1], "multi_static_select"),
            services__1=number(12),
            devices__1=multi(cis[:3]),
        ),
    )
    assert view["callback_id"] == "onboard_review", view
    review_text = str(view["blocks"])
    assert (
        "Convert Acme Dental to Customer" in review_text
        and "12 x Managed Workstation" in review_text
    )

    reply = await slack.payload(slack.view_submission(view, {"values": {}}))
    assert reply.status == 200 and reply.body["response_action"] == "update"
    assert "<#C1>" in str(reply.body["view"]["blocks"])
    posts = await slack.stub.wait_for(
        "chat.postMessage", 2, timeout=20
    )  # progress, then passwords DM

    progress = posts[0].args
    assert progress["channel"] == "C1"
    assert posts[1].args["channel"] == "DU1" and "Client Portal password" in posts[1].args["text"]
    final = (
        await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    ).args
    assert "Open in Autotask" in str(final["blocks"])
    company = tenant.get("Companies", acme)
    assert company is not None and company["companyType"] == 1 and company["taxID"] == "74-7654321"
    [contract] = [c for c in tenant.table("Contracts").values() if c["companyID"] == acme]
    linked = [
        d
        for d in tenant.table("ConfigurationItems").values()
        if d.get("contractID") == contract["id"]
    ]
    assert len(linked) == 3
    writes = [
        c
        for c in slack.sandbox.calls
        if c.method in ("POST", "PATCH", "DELETE") and "/query" not in c.path
    ]
    assert {c.impersonation for c in writes} == {resource_id(tenant, "Marta", "Ruiz")}


async def test_a_second_click_on_apply_starts_nothing_new(slack: Harness) -> None:
    view = await break_fix_review(
        slack, with_contract=contract(1, "Delta T&M", "2027-01-01", "2027-12-31")
    )
    replies = await asyncio.gather(
        *(slack.payload(slack.view_submission(view, {"values": {}})) for _ in range(2))
    )
    assert all(r.status == 200 for r in replies)
    await slack.stub.wait_for("chat.update", timeout=20)
    await asyncio.sleep(0)  # let the second submission's listener finish its check
    async with slack.container.db.transaction() as session:
        count = (
            await session.execute(sql_select(func.count()).select_from(Onboarding))
        ).scalar_one()
    assert count == 1
    assert (
        len([c for c in slack.stub.named("chat.postMessage") if c.args.get("channel") == "C1"]) == 1
    )


async def test_a_failed_step_shows_why_and_retry_finishes_the_run(slack: Harness) -> None:
    from services.autotask.sandbox import Fault

    tenant = slack.sandbox.tenant
    view = await break_fix_review(
        slack, with_contract=contract(4, "Delta block", "2027-01-01", "2027-06-30")
    )
    slack.sandbox.fail_next(
        Fault(
            status=500, errors=["Contract module is not active."], method="POST", path="Contracts"
        )
    )
    await slack.payload(slack.view_submission(view, {"values": {}}))
    failed_call = await slack.stub.wait_until(
        "chat.update", lambda a: "run_retry" in str(a["blocks"])
    )
    assert "Contract module is not active." in str(failed_call.args["blocks"])
    retry_value = button_value(failed_call.args["blocks"], "run_retry")
    click = message_click("run_retry", retry_value)
    assert (await slack.payload(click)).status == 200
    final = (
        await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    ).args
    assert final["ts"] == failed_call.args["ts"]  # the same message, updated in place
    assert [
        c["contractName"]
        for c in tenant.table("Contracts").values()
        if c["companyID"] == company_id(tenant, "Delta Print Works")
    ] == ["Delta block"]


async def test_an_autotask_failure_while_planning_keeps_the_draft_and_says_why(
    slack: Harness,
) -> None:
    from services.autotask.sandbox import Fault

    view = await break_fix_review(slack)
    # Apply more than a minute after its Review plans again, reading Autotask:
    slack.container.onboarding.reviewed.ttl = 0
    slack.sandbox.fail_next(
        Fault(
            status=500,
            errors=["The logged in Resource does not have the adequate permissions"],
            path="Contacts/query",
        )
    )
    before = len(slack.stub.named("views.update"))
    await slack.payload(slack.view_submission(view, {"values": {}}))
    calls = await slack.stub.wait_for("views.update", before + 1, timeout=10)
    assert "does not have the adequate permissions" in str(calls[-1].args["view"]["blocks"])
    await slack.command("")
    calls = await slack.stub.wait_for("views.update", before + 2, timeout=10)
    assert calls[-1].args["view"]["callback_id"] == "onboard_resume"  # the draft is still there


async def test_cancel_on_the_progress_message_stops_the_run_before_its_next_step(
    slack: Harness,
) -> None:
    view = await break_fix_review(
        slack, with_contract=contract(1, "Delta T&M", "2027-01-01", "2027-12-31")
    )
    slack.sandbox.latency = 0.3  # each step takes a moment: time to click
    await slack.payload(slack.view_submission(view, {"values": {}}))
    progress = await slack.stub.wait_until(
        "chat.postMessage", lambda a: a.get("channel") == "C1", timeout=10
    )
    onboarding_id = button_value(progress.args["blocks"], "run_cancel")
    click = message_click("run_cancel", onboarding_id)
    assert (await slack.payload(click)).status == 200
    final = await slack.stub.wait_until(
        "chat.update", lambda a: "· cancelled" in str(a["blocks"]), timeout=20
    )
    assert ":no_entry_sign:" in str(final.args["blocks"])  # steps left undone are marked cancelled
    report = await slack.container.runner.report(onboarding_id)
    assert report.status == "cancelled"
    assert any(s.state == "cancelled" for s in report.steps)
