"""A run's lease cannot be lost silently (PostgreSQL, two replicas on one onboarding, a lease of
about a second and a slow Autotask): the heartbeat keeps a step that outlasts the lease its own,
and a run whose lease was taken over anyway stops writing at once and records nothing, so the
stored outcome always agrees with the step rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.autotask.limits import RetryPolicy
from services.autotask.sandbox import Fault, SandboxTransport, Tenant
from services.autotask.sandbox.transport import THREAD_LIMIT_TEXT
from services.onboarding.runner import RunReport
from services.store.db import Database
from services.store.tables import Onboarding, StepRun
from tests.onboarding_support import managed_answers, writes
from tests.services.onboarding.conftest import MARTA, person
from tests.services.onboarding.heal_support import Clock, database, is_write, process

pytestmark = pytest.mark.postgres

LEASE = timedelta(seconds=1)
BACKOFF = RetryPolicy(max_retries=5, base_delay=0.6, max_delay=0.6)  # 0.3-0.6 s a retry
LONG_BACKOFF = RetryPolicy(max_retries=5, base_delay=3.0, max_delay=3.0)  # 1.5-3 s: > LEASE


@pytest.fixture
async def pg(postgres_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    async with database("postgres", tmp_path, lambda: postgres_url) as db:
        yield db


class Watched(httpx.AsyncBaseTransport):
    """One replica's wire: counts its writes, and says when Autotask turned one down."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.writes, self.refused = inner, 0, asyncio.Event()
        self.writes_after: int | None = None  # counted from ``mark()`` on

    def mark(self) -> None:
        self.writes_after = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_write(request):
            self.writes += 1
            if self.writes_after is not None:
                self.writes_after += 1
        response = await self.inner.handle_async_request(request)
        if is_write(request) and response.status_code == 429:
            self.refused.set()
        return response


async def _until_refused(watched: Watched, run: asyncio.Future[Any]) -> None:
    """Until Autotask turned a write down (the run must not have ended before that)."""
    refused = asyncio.ensure_future(watched.refused.wait())
    await asyncio.wait({refused, run}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    refused.cancel()
    if run.done():
        raise AssertionError(f"the run ended before Autotask refused a write: {run.result()}")
    assert watched.refused.is_set(), "no write was refused within 30 s"


def _stalled_team_create(tenant: Tenant, sandbox: SandboxTransport, times: int) -> None:
    """The first team member's create is refused ``times`` times (the thread limit), so its
    step takes longer than the lease with the client's back-off."""
    teams = f"Companies/{managed_answers(tenant)['company']}/Teams"
    limit = Fault(429, [THREAD_LIMIT_TEXT.format(n=3)], method="POST", path=teams)
    sandbox.fail_next(limit, count=times)


async def _stored(db: Database, onboarding_id: str) -> tuple[str, list[str]]:
    async with db.transaction() as session:
        status = (
            await session.execute(select(Onboarding.status).where(Onboarding.id == onboarding_id))
        ).scalar_one()
        states = list((await session.execute(
            select(StepRun.state).where(StepRun.onboarding_id == onboarding_id)
        )).scalars())  # fmt: skip
    return status, states


def _team_posts(sandbox: SandboxTransport) -> list[int]:
    return [c.body["resourceID"] for c in writes(sandbox.calls)
            if c.entity == "CompanyTeams" and c.method == "POST" and c.status == 200]  # fmt: skip


async def test_the_heartbeat_keeps_a_step_that_outlasts_the_lease_and_no_other_replica_writes(
    pg: Database, tenant: Tenant
) -> None:
    sandbox = SandboxTransport(tenant, latency=0.05)
    # one step waits 3-6 s for Autotask, with no write (hence no fence) for longer than the lease
    _stalled_team_create(tenant, sandbox, times=2)
    one, two = Watched(sandbox), Watched(sandbox)
    async with (
        process(pg, one, lease=LEASE, client_retry=LONG_BACKOFF, wait=True, name="bot-1") as a,
        process(pg, two, lease=LEASE, name="bot-2") as b,
    ):
        marta = await person(a.service, *MARTA)
        draft = await a.service.start(marta, answers=managed_answers(tenant, team=2, portal=1,
                                                                      devices=2))  # fmt: skip
        await a.service.review(marta, draft.draft_id)
        run = asyncio.ensure_future(a.service.apply(marta, draft.draft_id))
        await _until_refused(one, run)
        taken: list[str] = []
        while not run.done():  # the other replica sweeps for orphans the whole time
            taken += await b.service.resume_orphans()
            await asyncio.sleep(0.1)
        report = await run
    assert isinstance(report, RunReport) and report.status == "applied", report
    assert taken == [] and two.writes == 0  # never taken, never written by the other
    assert sorted(_team_posts(sandbox)) == sorted(set(_team_posts(sandbox)))
    status, states = await _stored(pg, report.onboarding_id)
    assert status == "applied" and set(states) <= {"done", "skipped"}


async def test_a_run_whose_lease_was_taken_over_stops_writing_and_records_nothing(
    pg: Database, tenant: Tenant
) -> None:
    sandbox = SandboxTransport(tenant, latency=0.02)
    _stalled_team_create(tenant, sandbox, times=1)
    one, two = Watched(sandbox), Watched(sandbox)
    late = Clock()
    late.now += timedelta(hours=1)  # replica 2's view: replica 1's lease ran out long ago
    async with (
        process(pg, one, lease=timedelta(seconds=2), client_retry=BACKOFF, wait=True,
                name="bot-1") as a,
        process(pg, two, lease=timedelta(seconds=2), clock=late, name="bot-2") as b,
    ):  # fmt: skip
        marta = await person(a.service, *MARTA)
        answers = managed_answers(tenant, team=2, portal=1, devices=2)
        draft = await a.service.start(marta, answers=answers)
        await a.service.review(marta, draft.draft_id)
        first = asyncio.ensure_future(a.service.apply(marta, draft.draft_id))
        await _until_refused(one, first)  # replica 1 is in a back-off now
        [onboarding_id] = await b.service.resume_orphans()  # and replica 2 takes the run
        one.mark()
        await b.service.runs.settle()
        lost = await first
    assert isinstance(lost, RunReport) and lost.lease_lost
    assert one.writes_after == 0  # not one write after its lease was taken
    assert not a.presenter.finished and not a.presenter.delivered  # it claimed no outcome
    status, states = await _stored(pg, onboarding_id)
    assert status == "applied" and set(states) <= {"done", "skipped"}
    team = answers["team_add"]
    assert sorted(_team_posts(sandbox)) == sorted(team)  # each member added once
    assert b.presenter.finished[-1][1].state == "applied"
