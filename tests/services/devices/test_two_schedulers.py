"""Two schedulers (replicas) sweeping the same follow-ups at once offer each batch of devices
once: PostgreSQL (``SKIP LOCKED`` claims) and SQLite (one file, two engines), with a claim lease
shorter than one sweep so the second sweep takes over rows the first is still sending."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.slack.devices.notifier import SlackDeviceNotifier
from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, sandbox_credentials
from services.devices.routing import DeviceRouting
from services.devices.rules import DEFAULT_RULES, ServiceRules
from services.devices.service import DeviceFollowUps
from services.onboarding.runner import Runner
from services.store import repositories as repo
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from services.store.tables import DeviceFollowUp, OfferedDevice
from tests.onboarding_support import reset_database
from tests.services.devices.support import ALL_DAY
from tests.slack_harness import USERS
from tests.slack_stub import SlackStub, running_stub

FOLLOWED = 6


async def _followups(db: Database, tenant: Tenant) -> dict[int, int]:
    """Due follow-ups of the seed's managed customers (their contract has a workstation
    service; none of their devices is on it): follow-up id -> devices off the contract."""
    contracts = [c for c in tenant.table("Contracts").values() if c["contractType"] == 7
                 and c["contractName"].endswith("Managed Services")][:FOLLOWED]  # fmt: skip
    past = datetime.now(UTC) - timedelta(minutes=1)
    found: dict[int, int] = {}
    async with db.transaction() as session:
        for contract in contracts:
            onboarding = await repo.create_onboarding(
                session, company_id=contract["companyID"], company_name="x", platform="slack",
                requested_by="U1", request={"client_type": "managed"},
            )  # fmt: skip
            row = DeviceFollowUp(
                onboarding_id=onboarding.id, company_id=contract["companyID"],
                company_name=contract["contractName"], contract_id=contract["id"],
                contract_name=contract["contractName"], recipient_user_id="U1",
                recipient_platform="slack", requester_id="U1", requester_platform="slack",
                locale="en", status="open", next_at=past, last_new_at=past,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            found[row.id] = sum(
                1 for d in tenant.table("ConfigurationItems").values()
                if d["companyID"] == contract["companyID"] and d.get("contractID") is None
            )  # fmt: skip
    assert len(found) == FOLLOWED and all(found.values())
    return found


async def _race(engines: list[AsyncEngine], tenant: Tenant) -> None:
    stub = SlackStub(users=dict(USERS), latency=0.3)  # one sweep: 6 x (open + post) x 0.3 s
    async with running_stub(stub), httpx.AsyncClient(transport=SandboxTransport(tenant)) as http:
        expected = await _followups(Database(engines[0]), tenant)

        def scheduler(n: int) -> DeviceFollowUps:
            client = AutotaskClient(sandbox_credentials(), http_client=http, retry=NO_DELAY_RETRIES)
            db, reference = Database(engines[n]), ReferenceData(client)
            slack = AsyncWebClient(token="xoxb-test-token", base_url=stub.url)
            return DeviceFollowUps(
                client=client, reference=reference, db=db,
                runner=Runner(client=client, reference=reference, db=db),
                notifier=DeviceRouting({"slack": SlackDeviceNotifier(slack)}), hours=ALL_DAY,
                rules=ServiceRules.parse(DEFAULT_RULES), claim_lease=timedelta(seconds=0.8),
            )  # fmt: skip

        first, second = scheduler(0), scheduler(1)
        one = asyncio.ensure_future(first.sweep())
        await asyncio.sleep(1.0)  # the first sweep's claim has run out; it is mid-way
        two = asyncio.ensure_future(second.sweep())
        results = await asyncio.gather(one, two)
        offers = [c for c in stub.named("chat.postMessage") if "devices_complete" in str(c.args)]
        assert len(offers) == FOLLOWED, f"{len(offers)} offers for {FOLLOWED} follow-ups"
        assert sum(r.offers for r in results) == FOLLOWED
        assert results[1].claimed > 0  # the second sweep did take over some of them
        async with Database(engines[0]).transaction() as session:
            rows = (await session.execute(select(OfferedDevice.followup_id,
                                                 OfferedDevice.offer_id))).all()  # fmt: skip
        assert Counter(f for f, _ in rows) == Counter(expected)  # every device offered once
        assert len({o for _, o in rows}) == FOLLOWED  # in one offer per follow-up


@pytest.mark.postgres
async def test_two_schedulers_on_postgresql_offer_each_batch_once(
    postgres_url: str, tenant: Tenant
) -> None:
    await reset_database(postgres_url)
    await upgrade(postgres_url)
    engines = [make_engine(postgres_url), make_engine(postgres_url)]
    try:
        await _race(engines, tenant)
    finally:
        for engine in engines:
            await engine.dispose()
        await reset_database(postgres_url)


async def test_two_schedulers_on_sqlite_offer_each_batch_once(
    tmp_path: Path, tenant: Tenant
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    await upgrade(url)
    engines = [make_engine(url), make_engine(url)]
    try:
        await _race(engines, tenant)
    finally:
        for engine in engines:
            await engine.dispose()
