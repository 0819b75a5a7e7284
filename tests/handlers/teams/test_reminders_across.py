"""Reminders with Slack and Teams both configured: a person is named the way the reader's platform
can show them. A Teams user id (``29:...``) means nothing in Slack and a Slack ``<@U...>`` mention
nothing in Teams, so whoever is on the other platform is named by e-mail, through the router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from sqlalchemy import select

from bot.chat import chat_reminders, notifiers, web_client
from bot.settings import Settings
from services.reminders.notifier import ReminderActor
from services.reminders.service import Reminders
from services.store.tables import ReminderSchedule
from tests.onboarding_support import managed_answers, resource_id, submitted
from tests.slack_stub import SIGNING_SECRET, SlackStub, user
from tests.slack_stub import running_stub as running_slack
from tests.teams_harness import Harness, running_bot
from tests.teams_stub import (
    MARTA,
    bot_added,
    bot_removed,
    installation,
    member,
    personal_chat,
    teams_user_id,
)

START = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)  # a Wednesday
BEATRIZ_EMAIL = "beatriz.lima@brightline-it.example"
TOM_EMAIL = "tom.keller@brightline-it.example"
BEATRIZ = teams_user_id("beatriz")


@asynccontextmanager
async def both(tmp_path: Path, slack_users: dict[str, dict[str, Any]]) -> AsyncIterator[
    tuple[Harness, SlackStub, Reminders]
]:  # fmt: skip
    """The Teams bot (local mode) and, on the same database, the reminders as a process with
    Slack and Teams configured builds them: one router over Slack's and Teams' real notifiers.
    (With Slack configured, the Teams endpoint needs Entra credentials, which no test has.)"""
    slack = SlackStub(users=slack_users)
    async with running_slack(slack), running_bot(tmp_path) as teams:
        container = teams.container
        settings = Settings(**{**container.settings.model_dump(), "slack_bot_token": "xoxb-test",
                               "slack_signing_secret": SIGNING_SECRET, "slack_api_url": slack.url,
                               "reminder_escalate_after": 3,
                               "reminder_escalation_channel": "C_BILLING"}, _env_file=None)  # fmt: skip
        router = notifiers(web_client(settings), container.teams, container.db)
        assert router is not None and list(router.platforms) == ["slack", "teams"]
        service = chat_reminders(settings, router, autotask=container.autotask,
                                 reference=container.reference, db=container.db)  # fmt: skip
        yield teams, slack, service


async def applied(teams: Harness, *, platform: str, requested_by: str) -> str:
    tenant = teams.sandbox.tenant
    answers = managed_answers(tenant) | {"tax_id": None, "attention_contact": None,
                                         "billing_admins": [resource_id(tenant, "Beatriz", "Lima")]}  # fmt: skip
    runner = teams.container.runner
    onboarding_id, preview = await submitted(runner, answers, platform=platform,
                                             requested_by=requested_by)  # fmt: skip
    assert onboarding_id, preview.issues
    assert (await runner.apply(onboarding_id)).status == "applied"
    return onboarding_id


async def the_row(teams: Harness) -> ReminderSchedule:
    async with teams.container.db.transaction() as session:
        [row] = (await session.execute(select(ReminderSchedule))).scalars().all()
    return row


async def nudge_until_escalated(teams: Harness, reminders: Reminders, clock: Any) -> None:
    for _ in range(2):
        async with teams.container.db.transaction() as session:
            [row] = (await session.execute(select(ReminderSchedule))).scalars().all()
        clock.move_to(row.next_at)
        await reminders.sweep()


def slack_texts(slack: SlackStub, channel: str) -> list[str]:
    return [str(c.args.get("text", "")) + str(c.args.get("blocks", ""))
            for c in slack.calls if c.method in ("chat.postMessage", "chat.update")
            and c.args.get("channel") == channel]  # fmt: skip


def teams_texts(teams: Harness, conversation: str) -> list[str]:
    return [str(s.activity) for s in teams.stub.sent if s.conversation_id == conversation]


async def test_a_teams_requester_hears_of_a_slack_admin_by_e_mail(tmp_path: Path) -> None:
    slack_users = {"UB": user("UB", BEATRIZ_EMAIL, "en-US", "America/New_York")}
    async with both(tmp_path, slack_users) as (teams, slack, reminders):
        await teams.post(bot_added(teams.stub.url))  # Marta's personal chat, with her e-mail
        await teams.settle()
        with time_machine.travel(START, tick=False) as clock:
            onboarding_id = await applied(teams, platform="teams", requested_by=MARTA)
            await reminders.start(onboarding_id)  # Beatriz is only in Slack
            assert len(slack_texts(slack, "DUB")) == 1
            await nudge_until_escalated(teams, reminders, clock)

        [escalated] = [x for x in teams_texts(teams, personal_chat(MARTA)["id"])
                       if "still incomplete after 3 reminders" in x]  # fmt: skip
        assert f"reminders to {BEATRIZ_EMAIL}" in escalated
        assert "UB" not in escalated.replace(BEATRIZ_EMAIL, "")
        [channel] = [x for x in slack_texts(slack, "C_BILLING") if "still incomplete" in x]
        assert "reminders to <@UB>" in channel  # in Slack, a Slack user is mentioned


async def test_slack_readers_never_see_a_teams_id(tmp_path: Path) -> None:
    slack_users = {"U1": user("U1", "marta.ruiz@brightline-it.example"),
                   "UT": user("UT", TOM_EMAIL, "es-ES", "Europe/Madrid")}  # fmt: skip
    async with both(tmp_path, slack_users) as (teams, slack, reminders):
        teams.stub.members[BEATRIZ] = member(BEATRIZ, BEATRIZ_EMAIL, "Beatriz Lima")
        await teams.post(bot_added(teams.stub.url, user_id=BEATRIZ))  # Beatriz only in Teams
        await teams.settle()
        beatriz_chat = personal_chat(BEATRIZ)["id"]
        with time_machine.travel(START, tick=False) as clock:
            onboarding_id = await applied(teams, platform="slack", requested_by="U1")
            [reminder_id] = await reminders.start(onboarding_id)
            assert any("Still missing in Autotask" in x for x in teams_texts(teams, beatriz_chat))
            await nudge_until_escalated(teams, reminders, clock)

            for where in ("DU1", "C_BILLING"):
                [escalated] = [x for x in slack_texts(slack, where) if "still incomplete" in x]
                assert f"reminders to {BEATRIZ_EMAIL}" in escalated
                assert "29:" not in escalated

            # "Not mine" in Teams, to Tom, who is only in Slack: her card says to whom by e-mail.
            actor = ReminderActor(user_id=BEATRIZ, email=BEATRIZ_EMAIL)
            assert await reminders.hand_over(reminder_id, TOM_EMAIL, by=actor)
        handed = [s for s in teams.stub.sent
                  if s.conversation_id == beatriz_chat and s.kind == "update"][-1]  # fmt: skip
        assert f"Handed to {TOM_EMAIL}." in str(handed.activity)
        assert len(slack_texts(slack, "DUT")) == 1  # Tom is nudged in Slack


async def beatriz_in_teams(teams: Harness) -> str:
    teams.stub.members[BEATRIZ] = member(BEATRIZ, BEATRIZ_EMAIL, "Beatriz Lima")
    await teams.post(bot_added(teams.stub.url, user_id=BEATRIZ))
    await teams.settle()
    return str(personal_chat(BEATRIZ)["id"])


async def test_removed_from_teams_the_admin_is_reminded_on_slack(tmp_path: Path) -> None:
    slack_users = {"UB": user("UB", BEATRIZ_EMAIL, "en-US", "America/New_York")}
    async with both(tmp_path, slack_users) as (teams, slack, reminders):
        chat = await beatriz_in_teams(teams)
        with time_machine.travel(START, tick=False) as clock:
            onboarding_id = await applied(teams, platform="teams", requested_by=MARTA)
            await reminders.start(onboarding_id)  # in Teams: the onboarding's own platform
            assert len(teams_texts(teams, chat)) == 2 and slack_texts(slack, "DUB") == []

            await teams.post(bot_removed(teams.stub.url, user_id=BEATRIZ))
            clock.move_to((await the_row(teams)).next_at)
            result = await reminders.sweep()
            assert result.nudged == 1
            [nudge] = slack_texts(slack, "DUB")
            assert "Still missing in Autotask" in nudge
            row = await the_row(teams)
            assert (row.platform, row.platform_user_id, row.nudges) == ("slack", "UB", 2)

            clock.move_to(row.next_at)
            await reminders.sweep()  # and stays there
        assert len(slack_texts(slack, "DUB")) == 2 and len(teams_texts(teams, chat)) == 2


async def test_removed_with_nowhere_else_the_nudge_is_undeliverable_and_the_sweep_goes_on(
    teams: Harness,
) -> None:
    reminders = teams.container.reminders
    assert reminders is not None and list(reminders.notifier.platforms) == ["teams"]
    await teams.post(bot_added(teams.stub.url))  # Marta, the requester
    chat = await beatriz_in_teams(teams)
    with time_machine.travel(START, tick=False) as clock:
        onboarding_id = await applied(teams, platform="teams", requested_by=MARTA)
        await reminders.start(onboarding_id)
        await teams.post(installation("remove", teams.stub.url, user_id=BEATRIZ))
        sent = len(teams.stub.sent)
        clock.move_to((await the_row(teams)).next_at)
        result = await reminders.sweep()  # no exception, nothing logged at ERROR (conftest)
        assert result.nudged == 0
        row = await the_row(teams)
        assert row.status == "unreachable" and row.nudges == 1 and row.sending_nudge is None
        clock.move_to(row.next_at + timedelta(days=2))
        assert (await reminders.sweep()).claimed == 0  # not tried again and again
    after = teams.stub.sent[sent:]
    assert [s.conversation_id for s in after] == [personal_chat(MARTA)["id"]]  # Marta is told
    assert f"{BEATRIZ_EMAIL} cannot be reached" in str(after[0].activity)
    assert len(teams_texts(teams, chat)) == 2  # the welcome and the first nudge only
