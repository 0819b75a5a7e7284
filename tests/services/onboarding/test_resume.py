"""Kill the run at every Autotask call boundary in turn, resume, and compare with a clean run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials
from services.onboarding.runner import AlreadyRunningError, Runner
from services.store.db import Database
from tests.onboarding_support import managed_answers, snapshot, sqlite_database, submitted, writes


class ProcessKilled(BaseException):
    """Not an Exception: nothing in the product may catch it, as nothing survives a SIGKILL."""


class KillAfter(httpx.AsyncBaseTransport):
    """Passes calls through; once armed, call ``n`` lands in Autotask and then the process dies."""

    def __init__(self, inner: SandboxTransport, n: int) -> None:
        self.inner, self.n, self.count, self.armed = inner, n, 0, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.count += self.armed
        if self.count == self.n:
            raise ProcessKilled(f"killed after call {self.n}")
        return response


def _runner(
    transport: httpx.AsyncBaseTransport, http: httpx.AsyncClient, db: Database, now: datetime
) -> Runner:
    client = AutotaskClient(sandbox_credentials(), http_client=http, retry=NO_DELAY_RETRIES)
    return Runner(client=client, reference=ReferenceData(client), db=db, clock=lambda: now)


async def _clean_run(tmp_path: Path) -> tuple[dict[str, list[dict[str, Any]]], int]:
    tenant = build_tenant()
    sandbox = SandboxTransport(tenant)
    async with (
        sqlite_database(tmp_path / "clean.db") as db,
        httpx.AsyncClient(transport=sandbox) as http,
    ):
        runner = _runner(sandbox, http, db, datetime.now(UTC))
        onboarding_id, _ = await submitted(
            runner, _answers(tenant), platform="test", requested_by="U1"
        )
        assert onboarding_id
        sandbox.reset_log()
        report = await runner.apply(onboarding_id)
        assert report.status == "applied"
        return snapshot(tenant), len(sandbox.calls)


def _answers(tenant: Tenant) -> dict[str, object]:
    return managed_answers(tenant, team=2, portal=1, devices=3)


async def test_killed_at_every_call_boundary_then_resumed_equals_a_clean_run(
    tmp_path: Path,
) -> None:
    expected, apply_calls = await _clean_run(tmp_path)
    assert apply_calls >= 12  # every kind of write is in the run
    for n in range(1, apply_calls + 1):
        tenant = build_tenant()
        sandbox = SandboxTransport(tenant)
        now = datetime.now(UTC)
        async with sqlite_database(tmp_path / f"kill{n}.db") as db:
            killer = KillAfter(sandbox, n)
            async with httpx.AsyncClient(transport=killer) as http:
                first = _runner(killer, http, db, now)
                onboarding_id, _ = await submitted(
                    first, _answers(tenant), platform="test", requested_by="U1"
                )
                assert onboarding_id
                killer.armed = True
                with pytest.raises(ProcessKilled):
                    await first.apply(onboarding_id)

            # A new process: no memory of the old one, and its lease still looks taken for a while.
            async with httpx.AsyncClient(transport=sandbox) as http:
                too_soon = _runner(sandbox, http, db, now + timedelta(seconds=30))
                with pytest.raises(AlreadyRunningError):
                    await too_soon.apply(onboarding_id)
                later = _runner(sandbox, http, db, now + timedelta(minutes=5))
                report = await later.apply(onboarding_id)
        assert report.status == "applied", (n, report.failed)
        assert snapshot(tenant) == expected, f"state differs after a kill at call {n}"


async def test_a_portal_user_created_just_before_a_crash_still_gets_a_password(
    tmp_path: Path,
) -> None:
    tenant = build_tenant()
    sandbox = SandboxTransport(tenant)
    now = datetime.now(UTC)
    async with sqlite_database(tmp_path / "p.db") as db:
        killer = KillAfter(sandbox, -1)
        async with httpx.AsyncClient(transport=killer) as http:
            first = _runner(killer, http, db, now)
            onboarding_id, preview = await submitted(
                first, _answers(tenant), platform="test", requested_by="U1"
            )
            assert onboarding_id and preview.plan
            keys = [s.key for s in preview.plan.changes]
            killer.n = keys.index(next(k for k in keys if k.startswith("portal_user:"))) + 1
            killer.armed = True
            with pytest.raises(ProcessKilled):
                await first.apply(onboarding_id)
        assert len(tenant.table("ClientPortalUsers")) == 1
        async with httpx.AsyncClient(transport=sandbox) as http:
            sandbox.reset_log()
            report = await _runner(sandbox, http, db, now + timedelta(minutes=5)).apply(
                onboarding_id
            )
    assert len(tenant.table("ClientPortalUsers")) == 1
    assert [s.user_name for s in report.secrets] == [
        next(iter(tenant.table("ClientPortalUsers").values()))["userName"]
    ]
    assert [c.method for c in writes(sandbox.calls) if c.entity == "ClientPortalUsers"] == ["PATCH"]
