"""Two replicas on one PostgreSQL share Autotask's 3 calls in flight per entity, and a replica
that dies gives its slots back."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy import text

from services.autotask.client import AutotaskClient
from services.autotask.filters import field
from services.autotask.limits import NO_DELAY_RETRIES, CallSlots, EntityLimiter
from services.autotask.sandbox import SandboxTransport, Tenant, sandbox_credentials
from services.store.autotask_slots import SharedEntityLimiter, lock_engine, slot_key
from services.store.engine import make_engine

pytestmark = pytest.mark.postgres
SCOPE = sandbox_credentials().integration_code.get_secret_value()


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[list[SharedEntityLimiter]]:
    """Two limiters with their own engines, as two replica processes would have."""
    async with AsyncExitStack() as stack:
        limiters = []
        for _ in range(2):
            limiter = SharedEntityLimiter(
                lock_engine(postgres_url), scope=SCOPE, local=EntityLimiter(3)
            )
            stack.push_async_callback(limiter.close)
            limiters.append(limiter)
        yield limiters


async def _burst(sandbox: SandboxTransport, limiters: list[CallSlots]) -> None:
    """Each replica reads 8 companies and 8 contact lists at once against one Autotask."""
    async with httpx.AsyncClient(transport=sandbox) as http:
        clients = [
            AutotaskClient(sandbox_credentials(), http_client=http, limiter=limiter,
                           retry=NO_DELAY_RETRIES)
            for limiter in limiters
        ]  # fmt: skip
        await asyncio.gather(
            *(c.get("Companies", i) for c in clients for i in range(1, 9)),
            *(
                c.query("Contacts", [field("companyID").eq(i)])
                for c in clients
                for i in range(1, 9)
            ),
        )


async def test_two_replicas_never_have_more_than_3_calls_in_flight_per_entity(
    tenant: Tenant, replicas: list[SharedEntityLimiter]
) -> None:
    # The sandbox would refuse a 4th call; let it accept them so its peak shows what we sent.
    sandbox = SandboxTransport(tenant, latency=0.05, thread_limit=100)
    await _burst(sandbox, list(replicas))
    assert sandbox.peak_in_flight["Companies"] == 3
    assert sandbox.peak_in_flight["Contacts"] == 3
    assert all(r.local.peak["companies"] >= 1 for r in replicas)  # both replicas took part
    assert sum(r.waits for r in replicas) > 0  # and one waited for the other


async def test_per_process_limits_alone_would_let_two_replicas_double_the_threads(
    tenant: Tenant,
) -> None:
    """The measurement above can fail: without the shared locks the sandbox sees 6."""
    sandbox = SandboxTransport(tenant, latency=0.05, thread_limit=100)
    await _burst(sandbox, [EntityLimiter(3), EntityLimiter(3)])
    assert sandbox.peak_in_flight["Companies"] == 6


async def test_at_autotasks_own_limit_two_replicas_get_no_thread_limit_rejection(
    tenant: Tenant, replicas: list[SharedEntityLimiter]
) -> None:
    sandbox = SandboxTransport(tenant, latency=0.02)  # refuses the 4th call, as Autotask does
    await _burst(sandbox, list(replicas))  # NO_DELAY_RETRIES would still succeed on retries...
    assert sandbox.thread_limit_rejections == 0  # ...so count the rejections themselves


async def _hold(
    limiter: CallSlots, entity: str, n: int
) -> tuple[asyncio.Event, list[asyncio.Task[None]]]:
    """``n`` callers inside a slot each, until the returned event is set."""
    inside, release = asyncio.Semaphore(0), asyncio.Event()

    async def caller() -> None:
        async with limiter.slot(entity):
            inside.release()
            await release.wait()

    tasks = [asyncio.ensure_future(caller()) for _ in range(n)]
    for _ in range(n):
        await asyncio.wait_for(inside.acquire(), 5)
    return release, tasks


async def _gets_a_slot(limiter: CallSlots, entity: str, within: float) -> bool:
    async def enter() -> None:
        async with limiter.slot(entity):
            pass

    try:
        await asyncio.wait_for(enter(), within)
    except TimeoutError:
        return False
    return True


async def _lock_holders(url: str, key: int) -> list[int]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' "
                 "AND classid = CAST(:key AS bigint) & 4294967295 AND database = "
                 "(SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"key": key},
        )  # fmt: skip
        pids = [int(r[0]) for r in rows]
    await engine.dispose()
    return pids


async def test_a_replica_whose_connection_dies_frees_its_slots(
    postgres_url: str, replicas: list[SharedEntityLimiter]
) -> None:
    a, b = replicas
    release, holders = await _hold(a, "Companies", 3)
    assert not await _gets_a_slot(b, "Companies", 0.3)  # all 3 are taken, tenant-wide

    [pid] = await _lock_holders(postgres_url, slot_key(SCOPE, "Companies"))
    engine = make_engine(postgres_url)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await engine.dispose()

    b_release, b_holders = await _hold(b, "Companies", 3)  # the locks died with the connection
    release.set()
    await asyncio.gather(*holders)  # A's callers finish; their stale releases free nothing of B's
    assert len(await _lock_holders(postgres_url, slot_key(SCOPE, "Companies"))) == 1
    assert not await _gets_a_slot(a, "Companies", 0.3)  # A reconnected and sees B's 3 slots
    b_release.set()
    await asyncio.gather(*b_holders)
    assert await _gets_a_slot(a, "Companies", 2.0)


async def test_a_replica_killed_with_sigkill_frees_its_slots(
    postgres_url: str, replicas: list[SharedEntityLimiter]
) -> None:
    script = textwrap.dedent(f"""
        import asyncio
        from services.autotask.limits import EntityLimiter
        from services.store.autotask_slots import SharedEntityLimiter, lock_engine

        async def main():
            limiter = SharedEntityLimiter(lock_engine({postgres_url!r}), scope={SCOPE!r},
                                          local=EntityLimiter(3))
            slots = [limiter.slot("Contacts") for _ in range(3)]
            for slot in slots:
                await slot.__aenter__()
            print("holding", flush=True)
            await asyncio.Event().wait()

        asyncio.run(main())
    """)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"holding"
        b = replicas[1]
        assert not await _gets_a_slot(b, "Contacts", 0.3)
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        assert await _gets_a_slot(b, "Contacts", 5.0)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_waiting_replica_backs_off_instead_of_hammering_the_database(
    replicas: list[SharedEntityLimiter],
) -> None:
    a, b = replicas
    release, holders = await _hold(a, "Contracts", 3)
    assert not await _gets_a_slot(b, "Contracts", 1.0)
    # 20 ms doubling to a 0.5 s cap, jittered: about 6 polls in a second, never a busy loop.
    assert 2 <= b.waits <= 12
    release.set()
    await asyncio.gather(*holders)
