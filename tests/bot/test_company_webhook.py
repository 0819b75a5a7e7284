"""Autotask's company webhook end to end: the sandbox's signed callouts over real HTTP into the bot.

No sweep runs unless a test calls one: a reminder that closes here closed because of a callout.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.doctor import run_checks
from services.autotask.sandbox.webhooks import autotask_json, sign
from services.store import state
from services.store.tables import ReminderSchedule, WebhookState
from tests.onboarding_support import company_id, reset_database, resource_id
from tests.webhook_support import (
    CALLBACK,
    SECRET,
    Bots,
    applied_onboarding,
    open_todos,
    webhook_bots,
)


@pytest.fixture
async def bots(tmp_path: Path) -> AsyncIterator[Bots]:
    async with webhook_bots(tmp_path) as running:
        report = await running.first.webhooks.sync()  # what `onboard-bot run` does
        assert report.state == "ready", report.describe()
        yield running
    assert running.stub.invalid == [], running.stub.invalid


async def _rows(bots: Bots) -> list[ReminderSchedule]:
    async with bots.first.container.db.transaction() as session:
        return list(
            (
                await session.execute(select(ReminderSchedule).order_by(ReminderSchedule.id))
            ).scalars()
        )


async def _webhook_row(bots: Bots) -> WebhookState:
    registry = bots.first.container.webhooks
    assert registry is not None and registry.name is not None
    async with bots.first.container.db.transaction() as session:
        row = await state.webhook_state(session, name=registry.name)
    assert row is not None
    return row


def _told(bots: Bots, user: str, text: str) -> list[Any]:
    return [c for c in bots.stub.named("chat.postMessage")
            if c.args.get("channel") == f"D{user}" and text in str(c.args.get("text"))]  # fmt: skip


def _completed_cards(bots: Bots) -> list[Any]:
    done = ("is complete in Autotask", "está completa en Autotask")  # en, es
    return [
        c
        for c in bots.stub.named("chat.update")
        if any(d in str(c.args.get("blocks")) for d in done)
    ]


async def test_the_last_missing_field_closes_the_reminder_within_seconds_without_a_sweep(
    bots: Bots,
) -> None:
    tenant = bots.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    onboarding_id = await applied_onboarding(bots.first, ["Beatriz Lima"])
    [reminder_id] = await bots.first.reminders.start(onboarding_id)
    beatriz = resource_id(tenant, "Beatriz", "Lima")
    webhooks = bots.sandbox.webhooks

    webhooks.admin_edit(acme, {"taxID": "74-7654321"}, resource_id=beatriz)  # one of two
    await bots.delivered()
    [row] = await _rows(bots)
    assert row.status == "open" and row.missing == ["attention"]
    updated = await bots.stub.wait_until(
        "chat.update", lambda a: "Still missing in Autotask: Attention." in str(a.get("blocks"))
    )
    assert updated.args["channel"] == "DUB"  # the DM, shortened in place

    bots.sandbox.reset_log()
    saved = time.monotonic()
    webhooks.admin_edit(acme, {"billToAttention": "Oscar Young"}, resource_id=beatriz)  # the last
    await bots.delivered()
    seconds = time.monotonic() - saved
    [row] = await _rows(bots)
    assert row.id == reminder_id and row.status == "closed"
    assert seconds < 5
    [callout] = [
        d
        for d in webhooks.deliveries
        if d.payload.get("Fields") == {"billToAttention": "Oscar Young"}
    ]
    assert callout.attempts == [200]
    reads = [
        f"{c.method} {c.entity}"
        for c in bots.sandbox.calls
        if c.method == "POST" and c.path.endswith("query")
    ]
    assert reads.count("POST Companies") == 1  # the one readiness check, as "Check now" does
    assert len(_completed_cards(bots)) == 1
    assert len(_told(bots, "U1", "is now complete in Autotask")) == 1  # the requester hears of it
    assert open_todos(bots, acme) == []  # the billing administrator's Autotask to-do is done
    assert (await _webhook_row(bots)).last_callback_at is not None


async def test_forged_replayed_and_oversized_callouts_change_nothing(bots: Bots) -> None:
    tenant = bots.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    [reminder_id] = await bots.first.reminders.start(
        await applied_onboarding(bots.first, ["Beatriz Lima"])
    )
    before_rows = [(r.status, r.missing, r.message_ref) for r in await _rows(bots)]
    before_hook = await _webhook_row(bots)
    real = {"Action": "Update", "Guid": "x", "EntityType": "Company", "Id": acme,
            "Fields": {"billToAttention": "Oscar Young"}, "EventTime": "2027-01-01T00:00:00Z",
            "SequenceNumber": 9, "PersonID": 1}  # fmt: skip
    body = autotask_json(real)
    tampered = autotask_json({**real, "Id": acme + 1})
    cases = {
        "unsigned": (body, {}),
        "signed with another key": (
            body,
            {"X-Hook-Signature": sign("not-our-secret-0123456789", body)},
        ),
        "replayed with another body's signature": (
            tampered,
            {"X-Hook-Signature": sign(SECRET, body)},
        ),
        "signature without the key": (body, {"X-Hook-Signature": "sha1=" + "A" * 28}),
        "too large": (b"{" + b" " * 70_000 + b"}", {"X-Hook-Signature": sign(SECRET, b"{}")}),
        "signed garbage": (b"not json", {"X-Hook-Signature": sign(SECRET, b"not json")}),
    }
    bots.sandbox.reset_log()
    answers = {name: await bots.post(CALLBACK, b, {"Content-Type": "application/json", **h})
               for name, (b, h) in cases.items()}  # fmt: skip
    await bots.first.idle()
    assert {name: status for name, (status, _) in answers.items()} == {
        "unsigned": 401, "signed with another key": 401,
        "replayed with another body's signature": 401, "signature without the key": 401,
        "too large": 413, "signed garbage": 400,
    }  # fmt: skip
    assert bots.sandbox.calls == []  # not one Autotask call
    assert [(r.status, r.missing, r.message_ref) for r in await _rows(bots)] == before_rows
    assert (await _webhook_row(bots)).last_callback_at == before_hook.last_callback_at  # no write
    assert (await _rows(bots))[0].id == reminder_id and (await _rows(bots))[0].status == "open"


async def test_repeats_and_other_companies_cost_no_autotask_call(bots: Bots) -> None:
    tenant = bots.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    await bots.first.reminders.start(await applied_onboarding(bots.first, ["Beatriz Lima"]))
    other = company_id(tenant, "Harbor Group")
    beatriz = resource_id(tenant, "Beatriz", "Lima")
    await bots.delivered()  # the onboarding's own writes were called out too
    sent = len(bots.sandbox.webhooks.deliveries)
    bots.sandbox.reset_log()
    bots.sandbox.webhooks.admin_edit(other, {"billToAttention": "Finance"}, resource_id=beatriz)
    await bots.delivered()
    assert [d.attempts for d in bots.sandbox.webhooks.deliveries[sent:]] == [[200]]
    assert bots.sandbox.calls == []  # Harbor Group has no open reminder: decided from our tables

    bots.sandbox.webhooks.admin_edit(acme, {"taxID": "74-7654321"}, resource_id=beatriz)
    await bots.delivered()
    callout = bots.sandbox.webhooks.deliveries[-1]
    headers = {"Content-Type": "application/json", "X-Hook-Signature": callout.signature}
    bots.sandbox.reset_log()
    status, answer = await bots.post(CALLBACK, callout.body, headers)  # Autotask retried it
    await bots.first.idle()
    assert (status, answer) == (200, {"status": "repeat"}) and bots.sandbox.calls == []

    older = autotask_json({**callout.payload, "SequenceNumber": 1, "Fields": {"taxID": None}})
    status, _ = await bots.post(CALLBACK, older, {"X-Hook-Signature": sign(SECRET, older)})
    await bots.first.idle()
    [row] = await _rows(bots)  # a late, out-of-order callout only leads to a fresh read
    assert status == 200 and row.status == "open" and row.missing == ["attention"]


async def test_a_deactivated_webhook_is_reported_and_the_sweep_covers_for_it(bots: Bots) -> None:
    container = bots.first.container
    net = container.safety_net
    assert net is not None and container.webhooks is not None
    tenant = bots.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    [reminder_id] = await bots.first.reminders.start(
        await applied_onboarding(bots.first, ["Beatriz Lima"])
    )
    assert (await net.health()).healthy
    assert (await net.interval()).total_seconds() == 360 * 60  # stretched while healthy
    assert await net.tick() is not None  # the first sweep of the stretched interval...
    assert await net.tick() is None  # ...and no other until it has passed

    forged = json.dumps({"Action": "Deactivated"}).encode()
    assert (await bots.post("/autotask/webhooks/companies/deactivated", forged))[0] == 202
    await bots.first.idle()
    assert (await net.health()).healthy  # an unsigned notice only made us ask Autotask

    hook_id = (await _webhook_row(bots)).webhook_id
    assert hook_id is not None
    bots.sandbox.webhooks.deactivate(hook_id)  # as after 25 failed deliveries
    await bots.delivered()
    health = await net.health()
    assert not health.healthy and "deactivated" in health.reason
    assert (await net.interval()).total_seconds() == 5 * 60
    [check] = [c for c in await run_checks(container) if c.name == "Autotask webhook"]
    assert check.status == "FAIL" and "deactivated" in check.detail
    assert "webhooks sync" in check.fix and "reachable" in check.fix

    beatriz = resource_id(tenant, "Beatriz", "Lima")
    bots.sandbox.webhooks.admin_edit(acme, {"taxID": "74-7654321", "billToAttention": "Oscar Young"},
                                     resource_id=beatriz)  # fmt: skip
    sent = len(bots.sandbox.webhooks.deliveries)
    await bots.delivered()
    assert bots.sandbox.webhooks.deliveries[sent:] == []  # no callout from an inactive webhook
    assert (await _rows(bots))[0].status == "open"
    assert await net.tick() is None  # the last sweep was a moment ago
    net.clock = lambda: datetime.now(UTC) + timedelta(minutes=6)  # the normal interval later
    result = await net.tick()
    assert result is not None and result.closed == 1
    [row] = await _rows(bots)
    assert row.id == reminder_id and row.status == "closed"

    report = await container.webhooks.sync()  # once Autotask can reach us again
    assert report.state == "ready" and "reactivated" in report.actions
    assert (await net.health()).healthy


@pytest.mark.postgres
async def test_two_replicas_receiving_the_same_callout_complete_the_reminder_once(
    tmp_path: Path, postgres_url: str
) -> None:
    await reset_database(postgres_url)
    try:
        async with webhook_bots(
            tmp_path, replicas=2, database_url=postgres_url, fan_out=True
        ) as bots:
            assert (await bots.first.webhooks.sync()).state == "ready"
            tenant = bots.sandbox.tenant
            acme = company_id(tenant, "Acme Dental")
            onboarding = await applied_onboarding(bots.first, ["Beatriz Lima", "Tom Keller"])
            assert len(await bots.replicas[1].reminders.start(onboarding)) == 2
            todos = len(open_todos(bots, acme))
            assert todos == 2
            bots.sandbox.reset_log()
            bots.sandbox.webhooks.admin_edit(
                acme, {"taxID": "74-7654321", "billToAttention": "Oscar Young"},
                resource_id=resource_id(tenant, "Beatriz", "Lima"),
            )  # fmt: skip
            await bots.delivered()
            reads = [c for c in bots.sandbox.calls if c.entity == "Companies"]
            assert len(reads) == 2  # each replica read the company once...
            assert {r.status for r in await _rows(bots)} == {"closed"}
            cards = _completed_cards(bots)  # ...but each DM turned "done" once
            assert sorted(c.args["channel"] for c in cards) == ["DUB", "DUT"]
            assert len(_told(bots, "U1", "is now complete in Autotask")) == 1
            to_do_writes = [
                c for c in bots.sandbox.calls if c.method == "PATCH" and c.entity == "CompanyToDos"
            ]
            assert len(to_do_writes) == todos and open_todos(bots, acme) == []
            assert bots.stub.invalid == []
    finally:
        await reset_database(postgres_url)


async def test_the_callout_is_answered_before_autotask_is_read(bots: Bots) -> None:
    """Autotask gives up on an answer after 10 s: the readiness check waits for no one."""
    tenant = bots.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    await bots.first.reminders.start(await applied_onboarding(bots.first, ["Beatriz Lima"]))
    # finished in Autotask, but its own callout was lost on the way: the one below stands in
    tenant.table("Companies")[acme].update(
        {"taxID": "74-7654321", "billToAttention": "Oscar Young"}
    )
    bots.sandbox.latency = 1.5  # a slow tenant: every Autotask call takes 1.5 s
    body = autotask_json(
        {"Action": "Update", "EntityType": "Company", "Id": acme, "SequenceNumber": 99}
    )
    started = time.monotonic()
    status, _ = await bots.post(CALLBACK, body, {"X-Hook-Signature": sign(SECRET, body)})
    answered = time.monotonic() - started
    assert status == 200 and answered < 0.5
    await bots.first.idle()
    assert time.monotonic() - started >= 1.5  # the read happened, after the answer
    assert {r.status for r in await _rows(bots)} == {"closed"}


async def test_the_webhook_secret_never_reaches_a_log(
    bots: Bots, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    registry = bots.first.webhooks
    await registry.sync()
    report = await registry.inspect()
    tenant = bots.sandbox.tenant
    bots.sandbox.webhooks.admin_edit(company_id(tenant, "Acme Dental"), {"taxID": "1"},
                                     resource_id=resource_id(tenant, "Beatriz", "Lima"))  # fmt: skip
    await bots.delivered()
    await bots.post(CALLBACK, b"{}", {"X-Hook-Signature": "sha1=forged"})
    assert caplog.records and SECRET not in caplog.text
    assert SECRET not in repr(report) + repr(registry.config) + report.describe()
