"""Replicas that start together on an empty PostgreSQL all come up: migrations take turns."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from services.store.migrate import check
from tests.onboarding_support import reset_database


@pytest.mark.postgres
async def test_three_replicas_migrating_one_new_database_at_once_all_succeed(
    postgres_url: str,
) -> None:
    await reset_database(postgres_url)
    env = {**os.environ, "DATABASE_URL": postgres_url}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    assert [p.returncode for p in procs] == [0, 0, 0], [o.decode()[-400:] for o, _ in outputs]
    await check(postgres_url)
    await reset_database(postgres_url)
