"""One reminder sweep over 10,000 pending onboardings, next to a naive per-company reader.

The sandbox holds 10,000 extra companies with an incomplete invoice setup, the database one due
reminder for each. Prints Autotask calls per sweep (target: one Companies query per 500
companies), database time (summed around every SQL statement), wall time, and the same for a reader
that GETs each company, as ratios. Autotask gets 50 ms of latency per call; the chat side is a
counting notifier, since this measures our side, not Slack's.

    .venv/bin/python -m bench.reminder_sweep [--reminders 10000] [--latency 0.05] [--sample 300]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, build_tenant, sandbox_credentials
from services.reminders.notifier import ChatUser, ReminderCard
from services.reminders.policy import BusinessHours
from services.reminders.service import Reminders
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from services.store.tables import Onboarding, ReminderSchedule


class CountingNotifier:
    def __init__(self) -> None:
        self.sent = 0

    async def find_user(self, email: str) -> ChatUser | None:
        return ChatUser("U1", "UTC", "en-US")

    async def send_reminder(self, to: str, card: ReminderCard, locale: str) -> dict[str, Any]:
        self.sent += 1
        return {"channel": "D1", "ts": str(self.sent)}

    async def update_reminder(self, ref: dict[str, Any], card: ReminderCard, locale: str) -> None:
        return None

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        return None

    async def post_channel(self, channel: str, key: str, **params: Any) -> None:
        return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()

    tenant = build_tenant()
    companies = tenant.table("Companies")
    first = max(companies) + 1
    for i in range(args.reminders):
        companies[first + i] = {"id": first + i, "companyName": f"Pending {i:05d}", "companyType": 3,
                                "ownerResourceID": 29682886, "phone": "1", "isActive": True}  # fmt: skip
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'sweep.db'}"
    await upgrade(url)
    engine = make_engine(url)
    db_seconds = [0.0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(
        conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any
    ) -> None:
        conn.info["t"] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _stop(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any) -> None:
        db_seconds[0] += time.perf_counter() - conn.info.pop("t", time.perf_counter())

    db = Database(engine)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for i in range(args.reminders):
            onboarding = Onboarding(id=f"o{i:08d}", company_id=first + i, company_name=f"Pending {i:05d}",
                                    platform="bench", requested_by="U1", request={"company": first + i, "client_type": "break_fix"})  # fmt: skip
            session.add(onboarding)
            session.add(ReminderSchedule(onboarding_id=onboarding.id, company_id=first + i, company_name=onboarding.company_name,
                                         recipient_email="a@b.example", platform_user_id="U1", tz="UTC", status="open",
                                         next_at=now, nudges=1, missing=[], message_ref={"locale": "en"}))  # fmt: skip

    sandbox = SandboxTransport(tenant)
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http)
        reference = ReferenceData(client)
        await reference.picklist("bill_to_address")
        await client.zone()
        notifier = CountingNotifier()
        reminders = Reminders(client=client, reference=reference, db=db, notifier=notifier,
                              hours=BusinessHours(), escalate_after=1000)  # fmt: skip
        sandbox.reset_log()
        sandbox.latency = args.latency
        db_seconds[0] = 0.0
        started = time.perf_counter()
        result = await reminders.sweep()
        wall = time.perf_counter() - started
        company_reads = sum(1 for c in sandbox.calls if c.entity == "Companies")
        other = len(sandbox.calls) - company_reads
        sweep_db = db_seconds[0]

        sandbox.reset_log()
        ids = [first + i for i in range(args.sample)]
        started = time.perf_counter()
        await asyncio.gather(*(client.get("Companies", i) for i in ids))  # 3 in flight, as allowed
        naive_wall = (time.perf_counter() - started) * args.reminders / args.sample
    await engine.dispose()

    print(
        f"Reminder sweep: {args.reminders} due reminders, {args.latency * 1000:.0f} ms Autotask latency\n"
    )
    print(f"{'reader':34} {'Autotask calls':>15} {'wall s':>9} {'DB s':>7}")
    print(
        f"{'sweep (id in [...], 500 a query)':34} {company_reads:>15} {wall:>9.2f} {sweep_db:>7.2f}"
    )
    print(f"{'naive (GET each company)':34} {args.reminders:>15} {naive_wall:>9.2f} {'-':>7}")
    print(f"\nnudged {result.nudged}, closed {result.closed}, other Autotask calls {other}")
    print(f"companies per Autotask call: {args.reminders / company_reads:.0f} (target 500)")
    print(f"ratio naive/sweep: calls {args.reminders / company_reads:.0f}x, wall {naive_wall / wall:.1f}x "
          f"(naive time extrapolated from {args.sample} GETs)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
