"""Each nudge once, even when a sweep outlives its claim: two schedulers on PostgreSQL, a claim
lease shorter than one sweep (Slack answering slowly), every due reminder nudged exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.reminders.notifier import SlackNotifier
from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, sandbox_credentials
from services.reminders.policy import BusinessHours
from services.reminders.service import Reminders
from services.store import repositories as repo
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from services.store.tables import ReminderSchedule
from tests.onboarding_support import company_id, reset_database
from tests.slack_harness import USERS
from tests.slack_stub import SlackStub, running_stub

pytestmark = pytest.mark.postgres

DUE = 4


async def _due_reminders(db: Database, tenant: Tenant) -> list[int]:
    """``DUE`` open reminders of one onboarding whose invoice setup is incomplete, all due."""
    cid = company_id(tenant, "Acme Dental")
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with db.transaction() as session:
        onboarding = await repo.create_onboarding(
            session, company_id=cid, company_name="Acme Dental", platform="slack",
            requested_by="U1", request={},
        )  # fmt: skip
        rows = [
            ReminderSchedule(
                onboarding_id=onboarding.id,
                company_id=cid,
                company_name="Acme Dental",
                recipient_email=f"admin{i}@brightline-it.example",
                platform_user_id="UB",
                status="open",
                next_at=past,
                missing=["tax_id"],
                message_ref={"locale": "en"},
            )
            for i in range(DUE)
        ]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


async def test_two_schedulers_with_a_lease_shorter_than_the_sweep_nudge_each_reminder_once(
    postgres_url: str, tenant: Tenant
) -> None:
    await reset_database(postgres_url)
    await upgrade(postgres_url)
    stub = SlackStub(users=dict(USERS), latency=0.3)  # one sweep: DUE x 0.3 s of chat.postMessage
    engines = [make_engine(postgres_url), make_engine(postgres_url)]
    try:
        async with (
            running_stub(stub),
            httpx.AsyncClient(transport=SandboxTransport(tenant)) as http,
        ):
            ids = await _due_reminders(Database(engines[0]), tenant)

            def scheduler(n: int) -> Reminders:
                client = AutotaskClient(
                    sandbox_credentials(), http_client=http, retry=NO_DELAY_RETRIES
                )
                slack = AsyncWebClient(token="xoxb-test-token", base_url=stub.url)
                return Reminders(client=client, reference=ReferenceData(client), db=Database(engines[n]),
                                 notifier=SlackNotifier(slack), hours=BusinessHours(),
                                 claim_lease=timedelta(seconds=0.5))  # fmt: skip

            first, second = scheduler(0), scheduler(1)
            one = asyncio.ensure_future(first.sweep())
            await asyncio.sleep(0.8)  # the first sweep's claim has run out; it is mid-way
            two = asyncio.ensure_future(second.sweep())
            results = await asyncio.gather(one, two)
        posts = stub.named("chat.postMessage")
        assert len(posts) == DUE, f"{len(posts)} nudges for {DUE} reminders"
        assert sum(r.nudged for r in results) == DUE
        assert results[1].claimed > 0  # the second sweep did take over some of them
        async with Database(engines[0]).transaction() as session:
            rows = [await session.get(ReminderSchedule, i) for i in ids]
        assert [r.nudges for r in rows if r is not None] == [1] * DUE
    finally:
        for engine in engines:
            await engine.dispose()
        await reset_database(postgres_url)
