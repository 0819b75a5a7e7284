"""SIGTERM on a real ``onboard-bot run``: it stops taking work, lets the step in flight finish,
hands its run back, says so on /readyz while it drains, and exits 0."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials
from services.onboarding.runner import Runner
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from services.store.tables import AuditEvent, Onboarding, StepRun
from tests.onboarding_support import (
    managed_answers,
    reset_database,
    snapshot,
    sqlite_database,
    submitted,
    writes,
)
from tests.process import BotProcess, bot_process, served_sandbox
from tests.slack_harness import USERS
from tests.slack_stub import (
    SIGNING_SECRET,
    SlackStub,
    message_click,
    payload_body,
    running_stub,
    signed,
)

pytestmark = pytest.mark.postgres


class GatedSandbox(SandboxTransport):
    """Holds the ``hold_at``-th write in flight until the test lets it go."""

    def __init__(self, tenant: Tenant, hold_at: int) -> None:
        super().__init__(tenant, latency=0.05, enforce_zone_host=False)
        self.hold_at = hold_at
        self.writes_started = 0
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("POST", "PATCH", "DELETE") and "/query" not in request.url.path:
            self.writes_started += 1
            if self.writes_started == self.hold_at:
                self.holding.set()
                await self.release.wait()
        return await super().handle_async_request(request)


@dataclass
class Scene:
    sandbox: GatedSandbox
    db: Database
    runner: Runner  # the test's own "other replica"
    onboarding_id: str
    env: dict[str, str]


@pytest.fixture
async def scene(postgres_url: str) -> AsyncIterator[Scene]:
    await reset_database(postgres_url)
    await upgrade(postgres_url)
    sandbox = GatedSandbox(build_tenant(), hold_at=4)
    engine = make_engine(postgres_url)
    stub = SlackStub(users=dict(USERS))
    async with (
        running_stub(stub),
        served_sandbox(sandbox) as autotask_env,
        httpx.AsyncClient(base_url="http://sandbox") as http,
    ):
        client = AutotaskClient(sandbox_credentials(), http_client=http, retry=NO_DELAY_RETRIES,
                                base_url=autotask_env["AUTOTASK_BASE_URL"])  # fmt: skip
        db = Database(engine)
        runner = Runner(client=client, reference=ReferenceData(client), db=db)
        answers = managed_answers(sandbox.tenant)
        onboarding_id, preview = await submitted(
            runner, answers, platform="slack", requested_by="U1"
        )
        assert onboarding_id is not None and preview.plan is not None
        env = {
            **autotask_env,
            "DATABASE_URL": postgres_url,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": stub.url,
            "AUTOTASK_MAX_RETRIES": "0",
            "LOG_FORMAT": "json",
            "REPLICA_ID": "bot-1",
        }
        try:
            yield Scene(sandbox, db, runner, onboarding_id, env)
        finally:
            sandbox.release.set()
            await engine.dispose()
            await reset_database(postgres_url)


async def _start_run(bot: BotProcess, scene: Scene) -> None:
    """The requester presses the run's button in Slack; the replica acks and applies."""
    body = payload_body(message_click("run_retry", scene.onboarding_id))
    assert await bot.post("/slack/events", body, signed(body)) == 200
    await asyncio.wait_for(scene.sandbox.holding.wait(), 60)


async def _state(scene: Scene) -> tuple[Onboarding, list[StepRun], int]:
    async with scene.db.transaction() as session:
        onboarding = (
            await session.execute(select(Onboarding).where(Onboarding.id == scene.onboarding_id))
        ).scalar_one()
        steps = list(
            (
                await session.execute(
                    select(StepRun).where(StepRun.onboarding_id == scene.onboarding_id)
                )
            ).scalars()
        )
        recorded = len(
            (
                await session.execute(
                    select(AuditEvent).where(
                        AuditEvent.onboarding_id == scene.onboarding_id,
                        AuditEvent.entity.is_not(None),
                    )
                )
            )
            .scalars()
            .all()
        )
    return onboarding, steps, recorded


async def test_sigterm_finishes_the_step_in_flight_hands_the_run_back_and_exits_0(
    scene: Scene, tmp_path: Path
) -> None:
    async with bot_process(tmp_path, scene.env) as bot:
        assert await bot.get("/readyz") == (200, {"status": "ready"})
        await _start_run(bot, scene)  # the 4th write is now in flight at Autotask
        bot.proc.send_signal(signal.SIGTERM)
        await bot.wait_for_output("shutting down: draining")

        assert await bot.get("/readyz") == (503, {"status": "not ready", "draining": True})
        assert await bot.get("/healthz") == (200, {"status": "ok"})  # the process itself is fine
        click = payload_body(message_click("run_retry", scene.onboarding_id))
        assert await bot.post("/slack/events", click, signed(click)) == 503  # no new work
        assert bot.proc.returncode is None  # still waiting for the step in flight

        scene.sandbox.release.set()
        assert await bot.exited(within=30) == 0

    log = bot.json_lines()
    assert len(log) == len(bot.output)  # JSON, every line, start-up lines included
    assert all(line["replica"] == "bot-1" for line in log)
    handed_back = next(line for line in log if line["message"] == "run ended: run_handed_back")
    assert handed_back["onboarding_id"] == scene.onboarding_id and handed_back["step"]
    assert log[-1]["message"].startswith("stopped")

    onboarding, steps, recorded = await _state(scene)
    assert onboarding.lease_owner is None and onboarding.status == "applying"
    states = [s.state for s in steps]
    assert "running" not in states  # the step in flight finished and was recorded
    assert "pending" in states  # the steps after it were left for another replica
    assert recorded == len(writes(scene.sandbox.calls))  # every write that landed is recorded

    # Another replica takes the run over at once (no lease to wait out) and finishes it, and
    # Autotask ends exactly as after one uninterrupted run: nothing written twice.
    report = await scene.runner.apply(scene.onboarding_id)
    assert report.status == "applied"
    assert snapshot(scene.sandbox.tenant) == await _uninterrupted_run(tmp_path)


async def test_a_step_that_outlasts_shutdown_timeout_is_cut_and_its_run_still_handed_back(
    scene: Scene, tmp_path: Path
) -> None:
    async with bot_process(tmp_path, {**scene.env, "SHUTDOWN_TIMEOUT": "1"}) as bot:
        await _start_run(bot, scene)  # and the sandbox never answers the 4th write
        started = time.monotonic()
        assert await bot.stop(within=30) == 0
        assert time.monotonic() - started < 10

    onboarding, steps, _ = await _state(scene)
    assert onboarding.lease_owner is None  # released although its run never got to a boundary
    assert [s.state for s in steps].count("running") == 1  # re-checked by the next run


async def _uninterrupted_run(tmp_path: Path) -> dict[str, list[dict[str, object]]]:
    tenant = build_tenant()
    async with (
        httpx.AsyncClient(transport=SandboxTransport(tenant)) as http,
        sqlite_database(tmp_path / "clean.db") as db,
    ):
        client = AutotaskClient(sandbox_credentials(), http_client=http, retry=NO_DELAY_RETRIES)
        runner = Runner(client=client, reference=ReferenceData(client), db=db)
        onboarding_id, _ = await submitted(runner, managed_answers(tenant), platform="slack",
                                               requested_by="U1")  # fmt: skip
        assert onboarding_id is not None
        assert (await runner.apply(onboarding_id)).status == "applied"
    return snapshot(tenant)
