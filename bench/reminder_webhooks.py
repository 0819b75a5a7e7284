"""The company webhook next to the safety-net sweep alone: how soon a finished invoice setup
closes its reminder, and how many Autotask reads a day that costs. Run by ``bench.reminder_sweep``.

1. Save to closed, with the webhook, over real HTTP: the bot serves its aiohttp routes, the
   sandbox posts signed callouts from the background. For each of ``samples`` companies with an
   open reminder, an admin saves the last missing invoice fields in the (simulated) Autotask UI;
   timed until the reminder is closed in the database. Every Autotask call takes ``latency``.
2. A simulated day (a controlled clock, no latency) with ``open_reminders`` open reminders and
   ``saves`` admins finishing their setup at spread-out minutes; the safety-net job ticks every
   minute. Without the webhook the sweep notices the saves (its interval: the save-to-closed time
   without the webhook); with a healthy webhook each save's callout leads to the receiver's
   readiness check (the same ``Reminders.recheck`` call), and the sweep stretches. Reads are the
   calls counted at the sandbox, not a formula.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.reminder_sweep import CountingNotifier, add_pending_companies, add_reminders
from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials
from services.reminders.policy import BusinessHours
from services.reminders.safety_net import SafetyNet
from services.reminders.service import Reminders
from services.store import state
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from tests.onboarding_support import resource_id
from tests.webhook_support import webhook_bots

EVERY = timedelta(minutes=5)  # REMINDER_SWEEP_MINUTES' default
EVERY_WITH_WEBHOOK = timedelta(minutes=360)  # REMINDER_SWEEP_MINUTES_WITH_WEBHOOK's default
FAR = datetime(2100, 1, 1, tzinfo=UTC)  # no nudge falls due: only what the modes differ in


def finished(tenant: Tenant) -> dict[str, object]:
    """Every invoice-setup item, as a billing administrator would save them."""
    return {
        "invoiceTemplateID": min(tenant.table("InvoiceTemplates")),
        "taxRegionID": min(tenant.table("TaxRegions")),
        "taxID": "74-1234567", "billToAddressToUse": 1, "address1": "1 Main St",
        "city": "Austin", "billToAttention": "Accounts payable",
    }  # fmt: skip


async def _open(db: Database, company_id: int) -> bool:
    from sqlalchemy import select

    from services.store.tables import ReminderSchedule

    async with db.transaction() as session:
        rows = await session.execute(
            select(ReminderSchedule.status).where(ReminderSchedule.company_id == company_id)
        )
        return "open" in set(rows.scalars())


async def with_webhook(samples: int, latency: float) -> tuple[list[float], float]:
    """Seconds from each save to its closed reminder; Companies reads per save."""
    async with webhook_bots(Path(tempfile.mkdtemp())) as bots:
        await bots.first.webhooks.sync()
        tenant, db = bots.sandbox.tenant, bots.first.container.db
        first = add_pending_companies(tenant, samples)
        await add_reminders(db, range(first, first + samples), next_at=FAR, user=None)
        admin = resource_id(tenant, "Beatriz", "Lima")
        bots.sandbox.latency = latency
        bots.sandbox.reset_log()
        seconds = []
        for cid in range(first, first + samples):
            saved = time.monotonic()
            bots.sandbox.webhooks.admin_edit(cid, finished(tenant), resource_id=admin)
            await bots.delivered()
            seconds.append(time.monotonic() - saved)
            assert not await _open(db, cid)
        reads = sum(1 for c in bots.sandbox.calls if c.entity == "Companies") / samples
    return seconds, reads


async def one_day(open_reminders: int, saves: int, *, webhook: bool) -> dict[str, float]:
    """A day of the safety-net job, ticking every minute, on a controlled clock."""
    tenant = build_tenant()
    first = add_pending_companies(tenant, open_reminders)
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'day.db'}"
    await upgrade(url)
    engine = make_engine(url)
    db = Database(engine)
    start = datetime(2027, 3, 10, tzinfo=UTC)
    clock = [start]
    await add_reminders(db, range(first, first + open_reminders), next_at=FAR, user=None)
    if webhook:  # registered, watching every field, synced at the start of the day
        async with db.transaction() as session:
            await state.save_webhook_state(session, name="bench", status="ready", synced_at=start)
    sandbox = SandboxTransport(tenant, hourly_limit=10**9)
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http)
        reference = ReferenceData(client)
        await reference.picklist("bill_to_address")
        reminders = Reminders(client=client, reference=reference, db=db, notifier=CountingNotifier(),
                              hours=BusinessHours(), clock=lambda: clock[0])  # fmt: skip
        net = SafetyNet(db=db, reminders=lambda: reminders, webhook_name="bench" if webhook else None,
                        every=EVERY, every_with_webhook=EVERY_WITH_WEBHOOK,
                        silence=timedelta(hours=24), clock=lambda: clock[0])  # fmt: skip
        await client.zone()
        sandbox.reset_log()
        due = {first + i * (open_reminders // saves): 7 + i * (1400 // saves) for i in range(saves)}
        saved_at: dict[int, datetime] = {}
        waits: list[float] = []
        sweeps = 0
        for minute in range(24 * 60):
            clock[0] = start + timedelta(minutes=minute)
            for cid in [c for c, m in due.items() if m == minute]:
                tenant.update("Companies", {"id": cid, **finished(tenant)})  # the admin saves
                saved_at[cid] = clock[0]
                if webhook:  # its callout: what CallbackReceiver does for it
                    await reminders.recheck([cid])
            if await net.tick() is not None:
                sweeps += 1
            for cid in [c for c in saved_at if not await _open(db, c)]:
                waits.append((clock[0] - saved_at.pop(cid)).total_seconds() / 60)
        calls = list(sandbox.calls)
    await engine.dispose()
    companies = sum(1 for c in calls if c.entity == "Companies")
    return {"sweeps": sweeps, "companies": companies, "other": len(calls) - companies,
            "wait_mean": statistics.mean(waits), "wait_max": max(waits), "closed": len(waits)}  # fmt: skip


async def compare(*, open_reminders: int, saves: int, latency: float, samples: int = 20) -> None:
    seconds, per_save = await with_webhook(samples, latency)
    plain = await one_day(open_reminders, saves, webhook=False)
    hooked = await one_day(open_reminders, saves, webhook=True)
    print(
        f"\nFrom an admin's save in Autotask to the closed reminder ({latency * 1000:.0f} ms Autotask latency):"
    )
    print(f"  with the webhook (real HTTP, {samples} saves): median {statistics.median(seconds):.2f} s, "
          f"max {max(seconds):.2f} s; {per_save:.0f} Companies read per save")  # fmt: skip
    print(f"  sweep only (every {EVERY.total_seconds() / 60:g} min, simulated day, {plain['closed']:.0f} saves): "
          f"mean {plain['wait_mean']:.1f} min, max {plain['wait_max']:.1f} min")  # fmt: skip
    print(
        f"  ratio of means: {plain['wait_mean'] * 60 / statistics.mean(seconds):.0f}x sooner with the webhook"
    )
    print(f"\nAutotask reads in a day: {open_reminders} open reminders, {saves} admins finishing "
          f"(counted at the sandbox):")  # fmt: skip
    print(f"  {'mode':44} {'sweeps':>7} {'Companies':>10} {'other':>6} {'total':>6}")
    for name, day in ((f"sweep only (every {EVERY.total_seconds() / 60:g} min)", plain),
                      (f"healthy webhook (sweep every {EVERY_WITH_WEBHOOK.total_seconds() / 60:g} min)", hooked)):  # fmt: skip
        total = day["companies"] + day["other"]
        print(
            f"  {name:44} {day['sweeps']:>7.0f} {day['companies']:>10.0f} {day['other']:>6.0f} {total:>6.0f}"
        )
    ratio = (plain["companies"] + plain["other"]) / (hooked["companies"] + hooked["other"])
    print(f"  ratio: {ratio:.1f}x fewer reads with the webhook ('other': completing the onboarding's "
          f"to-dos, alike in both)")  # fmt: skip
    print("  (nudges add one Companies query per 500 due reminders in both modes)")
