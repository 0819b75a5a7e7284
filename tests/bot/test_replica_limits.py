"""Replicas built from the same settings share Autotask's per-entity limit on PostgreSQL only."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.container import build
from bot.settings import Settings
from services.autotask.sandbox import SandboxTransport, Tenant


async def _peak_of_two_replicas(database_url: str, tenant: Tenant) -> int:
    sandbox = SandboxTransport(tenant, latency=0.05, thread_limit=100)  # shows what we send
    settings = Settings(_env_file=None, database_url=database_url, sandbox_state_file=None)
    async with AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(build(settings, sandbox=sandbox))
                    for _ in range(2)]  # fmt: skip
        await asyncio.gather(
            *(r.autotask.get("Companies", i) for r in replicas for i in range(1, 9))
        )
    return sandbox.peak_in_flight["Companies"]


@pytest.mark.postgres
async def test_on_postgresql_two_replicas_keep_3_calls_in_flight_per_entity(
    postgres_url: str, tenant: Tenant
) -> None:
    assert await _peak_of_two_replicas(postgres_url, tenant) == 3


async def test_on_sqlite_the_limit_is_per_process(tmp_path: Path, tenant: Tenant) -> None:
    """One process per SQLite file is the supported shape; two would each take 3."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    assert await _peak_of_two_replicas(url, tenant) == 6
