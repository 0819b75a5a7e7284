"""An onboarding applied from the terminal, with Slack configured, reminds its billing
administrators exactly like one applied from Slack: the same DM, the same reminder row."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from services.store.db import Database
from services.store.engine import make_engine
from services.store.tables import ReminderSchedule
from tests.handlers.slack.test_flow import break_fix_review
from tests.slack_harness import running_bot
from tests.slack_stub import SIGNING_SECRET

DELTA = """\
company: Delta Print Works
client_type: break_fix
convert_to_customer: true
"""


def _reminder_dm(calls: list[Any], channel: str) -> list[Any]:
    return [c for c in calls if c.args.get("channel") == channel and c.args.get("blocks")]


async def _open_reminders(url: str) -> list[tuple[str | None, int, list[Any]]]:
    engine = make_engine(url)
    try:
        async with Database(engine).transaction() as session:
            rows = (await session.execute(select(ReminderSchedule))).scalars().all()
            return [(r.platform_user_id, r.nudges, list(r.missing)) for r in rows]
    finally:
        await engine.dispose()


async def test_a_terminal_apply_dms_the_billing_admin_like_a_slack_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(tmp_path) as bot:
        view = await break_fix_review(bot)  # break/fix, invoice setup left to billing
        await bot.payload(bot.view_submission(view, {"values": {}}))
        # No billing administrator named, BILLING_ADMINS unset: the account manager (Claire).
        [from_slack] = [await bot.stub.wait_until(
            "chat.postMessage", lambda a: a.get("channel") == "DUC" and a.get("blocks")
        )]  # fmt: skip
        await bot.settle()

        terminal = tmp_path / "terminal"
        terminal.mkdir()
        (terminal / "delta.yaml").write_text(DELTA)
        database = f"sqlite+aiosqlite:///{terminal / 'onboarding.db'}"
        for key, value in {
            "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": bot.stub.url, "DATABASE_URL": database,
            "SANDBOX_STATE_FILE": str(terminal / "tenant.json"),
        }.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        before = len(bot.stub.calls)
        # The CLI runs its own event loop; the Slack stub answers from this one meanwhile.
        result = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["onboard", "--answers", str(terminal / "delta.yaml"), "--apply"],
        )
        assert result.exit_code == 0, result.output
        assert "Delta Print Works: onboarding applied" in result.output

        [from_terminal] = _reminder_dm(bot.stub.calls[before:], "DUC")
        assert from_terminal.args["blocks"] == from_slack.args["blocks"]
        assert from_terminal.args["text"] == from_slack.args["text"]
        assert "Still missing in Autotask: invoice template, tax region, tax ID, billing address, " \
               "Attention." in str(from_terminal.args["blocks"])  # fmt: skip
        assert (
            await _open_reminders(database)
            == await _open_reminders(bot.container.settings.database_url)
            == [
                (
                    "UC",
                    1,
                    ["invoice_template", "tax_region", "tax_id", "billing_address", "attention"],
                )
            ]
        )
