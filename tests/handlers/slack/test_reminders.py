"""Reminders for billing administrators, through Slack (stub) and the sandbox, on a controlled clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from bot.slack import build_app
from services.autotask.filters import field
from services.reminders.service import Reminders
from services.store import repositories as repo
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from services.store.tables import ReminderSchedule
from tests.onboarding_support import (
    company_id,
    managed_answers,
    reset_database,
    resource_id,
    submitted,
)
from tests.slack_harness import Harness, running_bot
from tests.slack_stub import message_click

START = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)  # a Wednesday, before both DST changes


async def _applied(bot: Harness, admins: list[str], *, requested_by: str = "U1") -> str:
    tenant = bot.sandbox.tenant
    ids = [resource_id(tenant, *name.split()) for name in admins]
    answers = managed_answers(tenant) | {
        "tax_id": None,
        "attention_contact": None,
        "billing_admins": ids,
    }
    runner = bot.container.runner
    onboarding_id, preview = await submitted(
        runner, answers, platform="slack", requested_by=requested_by
    )
    assert onboarding_id, preview.issues
    report = await runner.apply(onboarding_id)
    assert report.status == "applied" and report.invoice_missing == ["tax_id", "attention"]
    return onboarding_id


def _reminders(bot: Harness) -> Reminders:
    assert bot.container.reminders is not None
    return bot.container.reminders


def _dms(bot: Harness, user: str) -> list[Any]:
    return [
        c
        for c in bot.stub.named("chat.postMessage")
        if c.args.get("channel") == f"D{user}" and c.args.get("blocks")
    ]


async def _open_rows(db: Database) -> list[ReminderSchedule]:
    async with db.transaction() as session:
        return list(
            (
                await session.execute(
                    select(ReminderSchedule).where(ReminderSchedule.status == "open")
                )
            ).scalars()
        )


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path) as harness:
        yield harness


async def test_billing_admins_get_a_dm_at_once_naming_what_is_missing(bot: Harness) -> None:
    with time_machine.travel(START, tick=False):
        onboarding_id = await _applied(bot, ["Beatriz Lima", "Tom Keller"])
        created = await _reminders(bot).start(onboarding_id)
    assert len(created) == 2
    [english] = _dms(bot, "UB")
    [spanish] = _dms(bot, "UT")
    assert "Still missing in Autotask: tax ID, Attention." in str(english.args["blocks"])
    assert "Aún falta en Autotask: Id. de impuesto, Atención." in str(spanish.args["blocks"])
    assert "Acme Dental" in english.args["text"]
    buttons = str(english.args["blocks"])
    for label in ("Check now", "Snooze 1 day", "Snooze 1 week", "Open in Autotask", "Not mine"):
        assert label in buttons


async def test_nudges_land_in_business_hours_in_three_time_zones_across_dst(bot: Harness) -> None:
    zones = {"UB": "America/New_York", "UT": "Europe/Madrid", "US": "Asia/Kolkata"}
    with time_machine.travel(START, tick=False) as clock:
        onboarding_id = await _applied(bot, ["Beatriz Lima", "Tom Keller", "Sofia Mendez"])
        await _reminders(bot).start(onboarding_id)
        _reminders(bot).escalate_after = 1000
        while True:
            due = min(r.next_at for r in await _open_rows(bot.container.db))
            if due > datetime(2027, 4, 2, tzinfo=UTC):
                break
            clock.move_to(due)
            await _reminders(bot).sweep()
    for user, zone in zones.items():
        nudges = [c.wall.astimezone(ZoneInfo(zone)) for c in _dms(bot, user)][
            1:
        ]  # after the first DM
        assert len(nudges) >= 15, user
        for local in nudges:
            assert local.weekday() < 5, (user, local)
            assert 9 <= local.hour < 17, (user, local)
    ny = [c.wall for c in _dms(bot, "UB")]
    before = next(w for w in ny if w.date() == datetime(2027, 3, 12).date())  # EST, UTC-5
    after = next(w for w in ny if w.date() == datetime(2027, 3, 15).date())  # EDT, UTC-4
    assert after.astimezone(ZoneInfo("America/New_York")).hour == 9
    assert (before.hour - before.astimezone(ZoneInfo("America/New_York")).hour) % 24 == 5
    assert (after.hour - after.astimezone(ZoneInfo("America/New_York")).hour) % 24 == 4
    madrid = [c.wall for c in _dms(bot, "UT") if c.wall.date() == datetime(2027, 3, 29).date()]
    assert madrid and madrid[0].hour == 7  # 09:00 CEST the Monday after Europe's change


async def _click(bot: Harness, action: str, value: Any, user: str) -> None:
    payload = message_click(action, str(value), user_id=user, channel_id=f"D{user}")
    assert (await bot.payload(payload)).status == 200


async def test_snooze_waits_and_not_mine_hands_over(bot: Harness) -> None:
    monday = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)  # 10:00 in New York
    with time_machine.travel(monday, tick=False) as clock:
        onboarding_id = await _applied(bot, ["Beatriz Lima"])
        [reminder_id] = await _reminders(bot).start(onboarding_id)
        await _click(bot, "reminder_snooze_day", reminder_id, "UB")
        updated = await bot.stub.wait_until(
            "chat.update", lambda a: "Snoozed until" in str(a.get("blocks"))
        )
        assert updated.args["channel"] == "DUB"  # the DM itself, updated in place
        [row] = await _open_rows(bot.container.db)
        assert row.next_at == datetime(2027, 3, 16, 13, 0, tzinfo=UTC)  # Tuesday 09:00 EDT
        clock.move_to(row.next_at - timedelta(minutes=1))
        await _reminders(bot).sweep()
        assert len(_dms(bot, "UB")) == 1
        clock.move_to(row.next_at)
        await _reminders(bot).sweep()
        assert len(_dms(bot, "UB")) == 2

        await _click(bot, "reminder_not_mine", reminder_id, "UB")
        [modal] = await bot.stub.wait_for("views.open")
        view = modal.args["view"]
        submission = {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "UB"},
            "view": {
                "id": "V9",
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "state": {
                    "values": {
                        "handover_user": {
                            "handover_user": {"type": "users_select", "selected_user": "UT"}
                        }
                    }
                },
            },
        }
        assert (await bot.payload(submission)).status == 200
        handed = await bot.stub.wait_until(
            "chat.update", lambda a: "Handed to" in str(a.get("blocks"))
        )
        assert "<@UT>" in str(handed.args["blocks"])
        await bot.stub.wait_until(
            "chat.postMessage", lambda a: a.get("channel") == "DUT" and a.get("blocks")
        )


async def test_escalates_to_the_requester_and_a_channel_after_n_nudges(bot: Harness) -> None:
    with time_machine.travel(START, tick=False) as clock:
        onboarding_id = await _applied(bot, ["Beatriz Lima"], requested_by="U1")
        reminders = _reminders(bot)
        reminders.escalate_after, reminders.escalation_channel = 3, "C_BILLING"
        await reminders.start(onboarding_id)
        for _ in range(2):
            [row] = await _open_rows(bot.container.db)
            clock.move_to(row.next_at)
            await reminders.sweep()
    told = [
        c
        for c in bot.stub.named("chat.postMessage")
        if c.args.get("channel") in ("DU1", "C_BILLING")
    ]
    assert sorted(c.args["channel"] for c in told) == ["C_BILLING", "DU1"]
    assert "still incomplete after 3 reminders to <@UB>" in told[0].args["text"]
    assert "tax ID, Attention" in told[0].args["text"]


async def test_check_now_closes_a_completed_setup_and_its_autotask_to_do(bot: Harness) -> None:
    with time_machine.travel(START, tick=False):
        onboarding_id = await _applied(bot, ["Beatriz Lima", "Tom Keller"], requested_by="U1")
        ids = await _reminders(bot).start(onboarding_id)
        acme = company_id(bot.sandbox.tenant, "Acme Dental")
        await bot.container.autotask.update(
            "Companies", acme, {"taxID": "74-1112223", "billToAttention": "AP Dept"}
        )
        await _click(bot, "reminder_check", ids[0], "UB")
        await bot.stub.wait_until("chat.postMessage", lambda a: a.get("channel") == "DU1")
    done = [
        c
        for c in bot.stub.named("chat.update")
        if any(
            x in str(c.args.get("blocks"))
            for x in ("is complete in Autotask", "está completa en Autotask")
        )
    ]
    assert {c.args["channel"] for c in done} == {"DUB", "DUT"}  # both admins' DMs, updated in place
    assert await _open_rows(bot.container.db) == []
    todos = await bot.container.autotask.query("CompanyToDos", [field("companyID").eq(acme)])
    assert todos and all(t.get("completedDate") for t in todos)


async def test_a_restart_in_the_middle_of_a_sweep_neither_loses_nor_repeats_a_nudge(
    bot: Harness,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        onboarding_id = await _applied(bot, ["Beatriz Lima", "Tom Keller", "Sofia Mendez"])
        await _reminders(bot).start(onboarding_id)
        clock.move_to(START + timedelta(days=2))  # everyone is due
        first = len(bot.stub.named("chat.postMessage"))
        sweep = asyncio.ensure_future(_reminders(bot).sweep())
        await bot.stub.wait_for("chat.postMessage", first + 1)
        sweep.cancel()  # the process dies here
        with pytest.raises(asyncio.CancelledError):
            await sweep
        build_app(bot.container)  # a new process builds a new service
        restarted = _reminders(bot)
        await restarted.sweep()  # claimed rows are leased: nothing is sent twice right away
        clock.move_to(START + timedelta(days=2, minutes=6))  # the dead sweep's lease has expired
        await restarted.sweep()
    for user in ("UB", "UT", "US"):
        assert len(_dms(bot, user)) == 2, user  # the first DM and exactly one nudge


@pytest.mark.postgres
async def test_two_schedulers_on_postgresql_send_each_nudge_exactly_once(
    tmp_path: Path, postgres_url: str
) -> None:
    await reset_database(postgres_url)
    await upgrade(postgres_url)
    async with running_bot(tmp_path, database_url=postgres_url) as bot:
        tenant = bot.sandbox.tenant
        open_companies = [
            i for i, c in tenant.table("Companies").items() if c["companyType"] in (2, 3, 7)
        ][:15]
        now = datetime.now(UTC)
        async with bot.container.db.transaction() as session:
            for cid in open_companies:
                for copy in range(2):
                    onboarding = await repo.create_onboarding(
                        session,
                        company_id=cid,
                        company_name=f"c{cid}-{copy}",
                        platform="slack",
                        requested_by="U1",
                        request={"company": cid, "client_type": "break_fix"},
                    )
                    session.add(
                        ReminderSchedule(
                            onboarding_id=onboarding.id,
                            company_id=cid,
                            company_name=f"c{cid}",
                            recipient_email="beatriz.lima@brightline-it.example",
                            platform_user_id="UB",
                            tz="UTC",
                            status="open",
                            next_at=now,
                            nudges=1,
                            missing=[],
                            message_ref={"locale": "en"},
                        )
                    )
        second_engine = make_engine(postgres_url)
        first = _reminders(bot)
        second = Reminders(
            client=first.client,
            reference=first.reference,
            db=Database(second_engine),
            notifier=first.notifier,
            hours=first.hours,
            escalate_after=1000,
            batch=7,
        )
        first.escalate_after, first.batch = 1000, 7
        results = await asyncio.gather(first.sweep(), second.sweep())
        await second_engine.dispose()
        sent = [c for c in bot.stub.named("chat.postMessage") if c.args.get("channel") == "DUB"]
        reminder_ids = [
            b["elements"][0]["value"]
            for c in sent
            for b in c.args["blocks"]
            if b["type"] == "actions"
        ]
        expected = 2 * len(open_companies)
        assert len(reminder_ids) == expected and len(set(reminder_ids)) == expected
        assert results[0].nudged > 0 and results[1].nudged > 0  # both replicas did part of the work
        assert results[0].nudged + results[1].nudged == expected


async def test_applying_from_slack_dms_the_billing_admin_with_what_is_missing(bot: Harness) -> None:
    from tests.handlers.slack.test_flow import break_fix_review

    view = await break_fix_review(bot)  # break/fix, invoice setup left to billing
    await bot.payload(bot.view_submission(view, {"values": {}}))
    # No billing administrator was named and BILLING_ADMINS is unset: the account manager gets it,
    # the same person who got the Autotask to-do.
    dm = await bot.stub.wait_until(
        "chat.postMessage", lambda a: a.get("channel") == "DUC" and a.get("blocks")
    )
    text = str(dm.args["blocks"])
    assert "Delta Print Works" in text
    assert (
        "Still missing in Autotask: invoice template, tax region, tax ID, billing address, Attention."
        in text
    )
    await bot.settle()
    rows = await _open_rows(bot.container.db)
    assert [(r.platform_user_id, r.nudges) for r in rows] == [("UC", 1)]


def _handover(view: dict[str, Any], user: str, to: str) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user},
            "view": {"id": "V9", "type": "modal", "callback_id": view["callback_id"],
                     "private_metadata": view["private_metadata"],
                     "state": {"values": {"handover_user": {"handover_user": {
                         "type": "users_select", "selected_user": to}}}}}}  # fmt: skip


async def test_only_the_recipient_requester_or_an_admin_may_snooze_or_hand_over(
    tmp_path: Path,
) -> None:
    """Beatriz's reminder of Marta's onboarding. Dan (an onboarder, but neither) presses Snooze
    and Not mine on it, and forges the hand-over form: each is refused privately, in Spanish, and
    the reminder is untouched. Check now is harmless for anyone. Marta (the requester) and Claire
    (ONBOARDING_ADMINS) may snooze it."""
    monday = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
    async with running_bot(
        tmp_path, onboarding_admins=["claire.dubois@brightline-it.example"]
    ) as bot:
        with time_machine.travel(monday, tick=False):
            onboarding_id = await _applied(bot, ["Beatriz Lima"], requested_by="U1")
            [reminder_id] = await _reminders(bot).start(onboarding_id)
            [before] = await _open_rows(bot.container.db)
            updates = len(bot.stub.named("chat.update"))

            for action in ("reminder_snooze_day", "reminder_snooze_week", "reminder_not_mine"):
                await _click(bot, action, reminder_id, "U2")
            told = await bot.stub.wait_for("chat.postEphemeral", 3)
            assert {c.args["user"] for c in told} == {"U2"}
            assert all("Solo la persona a quien va dirigido este recordatorio" in c.args["text"]
                       for c in told)  # fmt: skip
            assert bot.stub.named("views.open") == []  # no hand-over form for Dan
            reply = await bot.payload(_handover(
                {"callback_id": "reminder_handover", "private_metadata": str(reminder_id)},
                "U2", "U2"))  # fmt: skip
            assert reply.body["response_action"] == "errors"
            assert "Solo la persona" in reply.body["errors"]["handover_user"]
            await bot.settle()
            [after] = await _open_rows(bot.container.db)
            assert (after.next_at, after.platform_user_id, after.nudges) == (
                before.next_at, "UB", before.nudges)  # fmt: skip
            assert len(bot.stub.named("chat.update")) == updates
            assert [c.args["channel"] for c in bot.stub.named("chat.postMessage")
                    if c.args.get("blocks")] == ["DUB"]  # nobody else was nudged  # fmt: skip

            await _click(bot, "reminder_check", reminder_id, "U2")  # re-reads Autotask only
            await bot.settle()
            assert (await _open_rows(bot.container.db))[0].platform_user_id == "UB"

            for user in ("U1", "UC"):  # the requester, an onboarding administrator
                await _click(bot, "reminder_snooze_week", reminder_id, user)
            await bot.stub.wait_for("chat.update", updates + 2)
            await bot.settle()
            assert len(bot.stub.named("chat.postEphemeral")) == 3
            [snoozed] = await _open_rows(bot.container.db)
            assert snoozed.next_at > before.next_at
