"""LOG_FORMAT=json: one JSON object a line, every line of a run names the onboarding, the step and
the replica, and no secret ever appears."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.container import build
from bot.logs import REDACTED, configure
from bot.settings import Settings
from services.autotask.sandbox import (
    SANDBOX_INTEGRATION_CODE,
    SANDBOX_SECRET,
    SandboxTransport,
    Tenant,
)
from services.store.migrate import upgrade
from tests.onboarding_support import managed_answers, submitted

BOT_TOKEN, SIGNING, APP_TOKEN = "xoxb-1111-never-log-me", "signing-never-log-me", "xapp-1-never"
SLACK_SECRETS = [BOT_TOKEN, SIGNING, APP_TOKEN]
DB_PASSWORD = "db-pass-never-log-me"


@pytest.fixture
def log() -> Iterator[tuple[Settings, io.StringIO]]:
    settings = Settings(_env_file=None, log_format="json", replica_id="replica-a",
                        sandbox_state_file=None, slack_bot_token=BOT_TOKEN,
                        slack_signing_secret=SIGNING, slack_app_token=APP_TOKEN)  # fmt: skip
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure(
        settings, secrets=[SANDBOX_SECRET, SANDBOX_INTEGRATION_CODE, DB_PASSWORD],
        level=logging.DEBUG, stream=stream,
    )  # fmt: skip
    try:
        yield settings, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]  # every line must be JSON


async def test_every_line_of_a_run_names_the_onboarding_the_step_and_the_replica(
    log: tuple[Settings, io.StringIO], tenant: Tenant, tmp_path: Path
) -> None:
    settings, stream = log
    settings = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
    )
    await upgrade(settings.database_url)
    async with build(settings, sandbox=SandboxTransport(tenant)) as container:
        onboarding_id, preview = await submitted(
            container.runner, managed_answers(tenant), platform="slack", requested_by="U1"
        )
        assert onboarding_id is not None and preview.plan is not None
        start = stream.tell()
        report = await container.runner.apply(onboarding_id)
        run_text = stream.getvalue()[start:]
    assert report.status == "applied"

    run = _lines(run_text)
    keys = {step.key for step in preview.plan.steps}
    assert len(run) > 2 * len(keys)  # a line per step state at least, and the Autotask calls
    assert all(line["onboarding_id"] == onboarding_id for line in run)
    assert all(line["step"] in keys | {"plan", "finish"} for line in run)
    assert all(line["replica"] == "replica-a" for line in run)
    assert {line["step"] for line in run} >= keys  # each step has its lines
    # Lines of the Autotask client, two layers below the runner, still know the step.
    client = [line for line in run if line["logger"] == "services.autotask.client"]
    assert client and all(line["step"] in keys | {"plan"} for line in client)
    for line in run:
        if line["message"].startswith("step "):  # "step team_add:12: done"
            assert line["message"].split(": ")[0] == f"step {line['step']}"

    everything = stream.getvalue()
    for secret in [*SLACK_SECRETS, SANDBOX_SECRET, SANDBOX_INTEGRATION_CODE]:
        assert secret not in everything
    assert report.secrets  # Client Portal passwords were generated in this run...
    for portal in report.secrets:
        assert portal.password not in everything  # ...and never logged


async def test_a_secret_a_library_puts_in_a_line_is_redacted(
    log: tuple[Settings, io.StringIO],
) -> None:
    """Whatever logs it (message, argument, exception, JSON escaping), the value never lands."""
    _, stream = log
    logger = logging.getLogger("some.library")
    logger.warning("sending headers %s", {"Secret": SANDBOX_SECRET})
    try:
        raise RuntimeError(f"refused token {BOT_TOKEN}")
    except RuntimeError:
        logger.exception('connect "postgresql://bot:%s@db/bot" failed', DB_PASSWORD)
    lines = [line for line in _lines(stream.getvalue()) if line["logger"] == "some.library"]
    assert len(lines) == 2
    text = stream.getvalue()
    for secret in [SANDBOX_SECRET, BOT_TOKEN, DB_PASSWORD]:
        assert secret not in text
    assert REDACTED in lines[0]["message"] and REDACTED in lines[1]["exc_info"]
    assert lines[0]["replica"] == "replica-a" and "onboarding_id" not in lines[0]


def test_text_format_redacts_too(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING,
                        slack_app_token=APP_TOKEN)  # fmt: skip
    stream = io.StringIO()
    handler = configure(settings, stream=stream)
    try:
        logging.getLogger("x").warning("token=%s", APP_TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
    assert stream.getvalue().endswith(f"WARNING x: token={REDACTED}\n")


async def test_start_up_prints_what_a_person_needs_and_no_library_chatter(tmp_path: Path) -> None:
    """The first screen of `onboard-bot run` is read by a person setting it up: the scheduler's
    per-job lines and the Teams SDK's connection table used to bury it."""
    from tests.process import bot_process

    async with bot_process(tmp_path, {}) as bot:
        await bot.wait_for_output("Teams:")
        await asyncio.sleep(1.5)  # the scheduler's first jobs run right after start-up
        assert await bot.stop() == 0
    printed = "\n".join(bot.output)
    assert "Autotask: built-in SANDBOX" in printed and "listening on" in printed
    assert "apscheduler" not in printed and "Adding job tentatively" not in printed
    assert "Connections Map" not in printed
