"""A crash mid-Apply never strands an onboarding, with real processes and SIGKILL: an Apply
(``onboard-bot onboard --answers FILE --apply``) killed right after each of its first five
Autotask writes in turn is finished by the running bot (``onboard-bot run``) once the dead
process's lease runs out; a bot killed while resuming it is restarted and finishes it; writes
whose answers are lost end applied. Nobody presses anything, and Autotask ends as after one
uninterrupted run (no duplicate row). On SQLite and PostgreSQL; the sandbox is served over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.container import build
from bot.settings import Settings
from handlers.console import console_presenter, run_answers_file
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant
from services.autotask.sandbox.transport import Call
from services.i18n import Translator
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from services.store.tables import AuditEvent, Onboarding
from tests.onboarding_support import reset_database, snapshot
from tests.process import bot_process, onboard_cli, served_sandbox

ANSWERS = Path(__file__).resolve().parents[2] / "docs/examples/acme-dental.yaml"
FAST = {"RUN_LEASE_SECONDS": "2", "ORPHAN_SWEEP_SECONDS": "0.5", "AUTOTASK_MAX_RETRIES": "2"}
UNEXPECTED = {"errors": ["An unexpected error has occurred. Error ID: 5150"]}


def _is_write(call: Call) -> bool:
    return call.method in ("POST", "PATCH", "DELETE") and "/query" not in call.path


class Scenes(SandboxTransport):
    """One served sandbox for a series of scenes: each gets a fresh tenant; it can kill the
    process that makes the n-th write the moment that write has landed, or lose the first answer
    to every write (the write landed, the reply did not come back)."""

    def __init__(self) -> None:
        super().__init__(build_tenant(), enforce_zone_host=False)
        self.victim: int | None = None  # the pid to SIGKILL ...
        self.kill_at = 0  # ... right after this many writes landed
        self.landed = 0
        self.lose_answers = False
        self._seen: set[tuple[str, str, bytes]] = set()
        self.on_call = self._count

    def scene(self) -> Tenant:
        self.tenant = build_tenant()
        self.victim, self.landed, self.lose_answers = None, 0, False
        self.reset_log()
        return self.tenant

    def kill(self, pid: int, after: int) -> None:
        self.victim, self.kill_at, self.landed = pid, after, 0

    def _count(self, call: Call) -> None:
        if self.victim is None or not _is_write(call) or call.status != 200:
            return
        self.landed += 1
        if self.landed == self.kill_at:
            os.kill(self.victim, signal.SIGKILL)  # before the reply leaves: it is never read
            self.victim = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        key = (request.method, request.url.path, request.content)
        writing = request.method in ("POST", "PATCH", "DELETE") and "/query" not in request.url.path
        if self.lose_answers and writing and response.status_code == 200 and key not in self._seen:
            self._seen.add(key)
            return httpx.Response(500, json=UNEXPECTED)
        return response


async def _expected(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """The tenant after the same answers file applied once, uninterrupted."""
    tenant = build_tenant()
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/clean.db")
    await upgrade(settings.database_url)
    async with build(settings, sandbox=SandboxTransport(tenant)) as container:
        code = await run_answers_file(ANSWERS, service=container.onboarding,
                                      presenter=console_presenter(), apply=True,
                                      t=Translator("en"), echo=lambda _: None)  # fmt: skip
    assert code == 0
    return snapshot(tenant)


@asynccontextmanager
async def _database(kind: str, tmp_path: Path, postgres: Callable[[], str]) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/bot.db"
        return
    url = postgres()
    await reset_database(url)
    try:
        yield url
    finally:
        await reset_database(url)


async def _runs(db: Database) -> list[Onboarding]:
    async with db.transaction() as session:
        return list((await session.execute(select(Onboarding))).scalars())


async def _until_applied(db: Database, onboarding_id: str, within: float = 60.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        async with db.transaction() as session:
            status = (await session.execute(
                select(Onboarding.status).where(Onboarding.id == onboarding_id)
            )).scalar_one()  # fmt: skip
        if status in ("applied", "failed", "cancelled"):
            assert status == "applied", status
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"onboarding {onboarding_id} not applied within {within} s")


async def _killed_apply(cwd: Path, env: dict[str, str], sandbox: Scenes, after: int) -> None:
    cli = await onboard_cli(cwd, env, "--answers", str(ANSWERS), "--apply")
    sandbox.kill(cli.pid, after)
    await asyncio.wait_for(cli.wait(), 60)
    assert cli.returncode == -signal.SIGKILL, "the Apply should have been killed"


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_killed_applies_are_finished_by_the_bot_with_nothing_twice_and_no_user_action(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    expected = await _expected(tmp_path)
    sandbox = Scenes()
    postgres = lambda: str(request.getfixturevalue("postgres_url"))  # noqa: E731
    async with (
        _database(kind, tmp_path, postgres) as url,
        served_sandbox(sandbox) as autotask,
    ):
        env = {**autotask, **FAST, "DATABASE_URL": url}
        await upgrade(url)
        engine = make_engine(url)
        db = Database(engine)
        try:
            async with bot_process(tmp_path, env) as bot:
                # the Apply dies right after write n; the bot finishes it
                for n in range(1, 6):
                    tenant = sandbox.scene()
                    await _killed_apply(tmp_path, env, sandbox, n)
                    [run] = [r for r in await _runs(db) if r.status != "applied"]
                    took = await _until_applied(db, run.id)
                    assert took < 20, f"resumed {took:.1f} s after the kill at write {n}"
                    assert snapshot(tenant) == expected, (
                        f"Autotask differs after a kill at write {n}"
                    )
                await bot.wait_for_output("continued after an interruption")

                # writes whose answers are lost: the Apply itself ends applied, no Retry
                tenant = sandbox.scene()
                sandbox.lose_answers = True
                cli = await onboard_cli(tmp_path, env, "--answers", str(ANSWERS), "--apply")
                out, _ = await asyncio.wait_for(cli.communicate(), 90)
                assert cli.returncode == 0, out.decode()
                assert "Acme Dental: applied" in out.decode()
                assert snapshot(tenant) == expected

                # the bot itself killed while it resumes a run: its restart finishes it
                tenant = sandbox.scene()
                await _killed_apply(tmp_path, env, sandbox, 1)
                sandbox.kill(bot.proc.pid, 2)
                assert await bot.exited(within=30) == -signal.SIGKILL
            [run] = [r for r in await _runs(db) if r.status != "applied"]
            assert run.status == "applying"
            async with bot_process(tmp_path, env) as restarted:
                await _until_applied(db, run.id)
                await restarted.wait_for_output("resuming")
            assert snapshot(tenant) == expected
            async with db.transaction() as session:
                pressed = (await session.execute(select(AuditEvent.actor).where(
                    AuditEvent.action == "run_applied"))).scalars().all()  # fmt: skip
            assert len(pressed) == 7  # every run ended applied by a process, not a person
        finally:
            await engine.dispose()
