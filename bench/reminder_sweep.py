"""One reminder sweep over 10,000 pending onboardings, next to a naive per-company reader.

The sandbox holds 10,000 extra companies with an incomplete invoice setup, the database one due
reminder for each. Prints Autotask calls per sweep (target: one Companies query per 500
companies), database time (summed around every SQL statement), wall time, and the same for a reader
that GETs each company, as ratios. Autotask gets 50 ms of latency per call; the chat side is a
counting notifier, since this measures our side, not Slack's.

Then, with and without the company webhook (``bench/reminder_webhooks.py``): the time from an
admin's save in Autotask to the closed reminder, and the Autotask reads a day for 1,000 open
reminders, counted at the sandbox.

    .venv/bin/python -m bench.reminder_sweep [--reminders 10000] [--latency 0.05] [--sample 300]
                                             [--open 1000] [--saves 50] [--no-webhooks]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials
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


def add_pending_companies(tenant: Tenant, n: int) -> int:
    """``n`` companies with nothing of their invoice setup done; the first one's id."""
    companies = tenant.table("Companies")
    first = max(companies) + 1
    for i in range(n):
        companies[first + i] = {"id": first + i, "companyName": f"Pending {i:05d}", "companyType": 3,
                                "ownerResourceID": 29682886, "phone": "1", "isActive": True}  # fmt: skip
    return first


async def add_reminders(db: Database, company_ids: Iterable[int], *, next_at: datetime,
                        user: str | None = "U1") -> None:  # fmt: skip
    """One open reminder (and its onboarding) per company, due at ``next_at``."""
    async with db.transaction() as session:
        for cid in company_ids:
            onboarding = Onboarding(id=f"o{cid:08d}", company_id=cid, company_name=f"Pending {cid}",
                                    platform="bench", requested_by="U1", request={"company": cid, "client_type": "break_fix"})  # fmt: skip
            session.add(onboarding)
            session.add(ReminderSchedule(onboarding_id=onboarding.id, company_id=cid, company_name=onboarding.company_name,
                                         recipient_email="a@b.example", platform_user_id=user, tz="UTC", status="open",
                                         next_at=next_at, nudges=1, missing=[], message_ref={"locale": "en"}))  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--sample", type=int, default=300)

    parser.add_argument("--open", type=int, default=1000, help="open reminders for the day's count")
    parser.add_argument("--saves", type=int, default=50, help="admin saves in that day")
    parser.add_argument("--no-webhooks", action="store_true", help="skip the webhook comparison")
    args = parser.parse_args()

    tenant = build_tenant()
    first = add_pending_companies(tenant, args.reminders)
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
    await add_reminders(db, range(first, first + args.reminders), next_at=datetime.now(UTC))

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
    if not args.no_webhooks:
        from bench.reminder_webhooks import compare

        await compare(open_reminders=args.open, saves=args.saves, latency=args.latency)


if __name__ == "__main__":
    asyncio.run(main())
