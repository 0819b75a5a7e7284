"""The replicas' shared state: one sweep per interval overall, and the webhook's health."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.reminders.safety_net import SafetyNet
from services.store import state
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade

NOW = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)


async def test_of_two_replicas_claiming_a_job_at_once_one_wins_per_interval(
    database_url: str,
) -> None:
    await upgrade(database_url)
    engines = [make_engine(database_url) for _ in range(2)]  # two processes' worth of pools
    dbs = [Database(e) for e in engines]

    async def claim(db: Database, at: datetime) -> bool:
        async with db.transaction() as session:
            return await state.claim_job_run(
                session, name="sweep", now=at, every=timedelta(minutes=5)
            )

    try:
        for at in (NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=11)):
            wins = await asyncio.gather(*(claim(db, at) for db in dbs for _ in range(3)))
            assert sum(wins) == 1, at
        assert not await claim(dbs[0], NOW + timedelta(minutes=12))  # inside the interval
    finally:
        for engine in engines:
            await engine.dispose()


async def test_the_webhook_counts_as_healthy_only_while_it_is_heard_from(database_url: str) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    db = Database(engine)
    clock = [NOW]
    net = SafetyNet(db=db, reminders=lambda: None, webhook_name="hook", every=timedelta(minutes=5),
                    every_with_webhook=timedelta(hours=6), silence=timedelta(hours=24),
                    clock=lambda: clock[0])  # fmt: skip
    try:
        assert (await net.health()).reason == "the company webhook is not registered yet"
        async with db.transaction() as session:
            await state.save_webhook_state(session, name="hook", status="ready", synced_at=NOW)
        assert (await net.health()).healthy
        assert await net.interval() == timedelta(hours=6)
        clock[0] = NOW + timedelta(hours=25)
        health = await net.health()
        assert not health.healthy and health.reason == "no callout for over 24 hours"
        assert await net.interval() == timedelta(minutes=5)
        async with db.transaction() as session:
            await state.record_callback(
                session, name="hook", now=clock[0], every=timedelta(minutes=1)
            )
        assert (await net.health()).healthy
        async with db.transaction() as session:
            await state.record_deactivation(session, name="hook", now=clock[0])
        assert (await net.health()).reason == "Autotask deactivated the company webhook"
        async with db.transaction() as session:
            await state.save_webhook_state(
                session, name="hook", status="partial", deactivated_at=None
            )
        assert (await net.health()).reason == "the company webhook is partial"
    finally:
        await engine.dispose()
