"""What sharing Autotask's thread limit through PostgreSQL costs, and what it buys.

Two "replicas" (two limiters, each with its own engine and lock connection) read companies at
once against one sandbox with ``--latency`` seconds per call; the sandbox is told to accept any
number in flight, so its peak shows what the replicas sent. Then the same burst with per-process
limits only. Also the cost per call of taking and freeing a slot (latency 0, 3 callers).

    .venv/bin/python -m bench.slot_locks [--url postgresql+psycopg://...] [--calls 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import httpx

from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES, CallSlots, EntityLimiter
from services.autotask.sandbox import SANDBOX_INTEGRATION_CODE, SandboxTransport, build_tenant
from services.autotask.sandbox import sandbox_credentials as credentials
from services.store.autotask_slots import SharedEntityLimiter, lock_engine


async def burst(limiters: list[CallSlots], calls: int, latency: float) -> tuple[int, float]:
    sandbox = SandboxTransport(build_tenant(), latency=latency, thread_limit=1000)
    async with httpx.AsyncClient(transport=sandbox) as http:
        clients = [AutotaskClient(credentials(), http_client=http, limiter=limiter,
                                  retry=NO_DELAY_RETRIES) for limiter in limiters]  # fmt: skip
        started = time.perf_counter()
        await asyncio.gather(
            *(c.get("Companies", 1 + i % 20) for c in clients for i in range(calls))
        )
        return sandbox.peak_in_flight["Companies"], time.perf_counter() - started


async def per_call_ms(limiter: CallSlots, calls: int = 600) -> float:
    sandbox = SandboxTransport(build_tenant())
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(credentials(), http_client=http, limiter=limiter,
                                retry=NO_DELAY_RETRIES)  # fmt: skip
        await client.get("Companies", 1)
        three = asyncio.Semaphore(3)

        async def one(i: int) -> None:
            async with three:
                await client.get("Companies", 1 + i % 20)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(calls)))
        return (time.perf_counter() - started) / calls * 1000


def shared(url: str) -> SharedEntityLimiter:
    return SharedEntityLimiter(lock_engine(url), scope=SANDBOX_INTEGRATION_CODE,
                               local=EntityLimiter(3))  # fmt: skip


async def main(url: str, calls: int, latency: float) -> None:
    replicas = [shared(url), shared(url)]
    peak, seconds = await burst(list(replicas), calls, latency)
    for limiter in replicas:
        await limiter.close()
    alone_peak, alone_seconds = await burst([EntityLimiter(3), EntityLimiter(3)], calls, latency)
    print(f"2 replicas x {calls} calls, {latency * 1000:.0f} ms Autotask latency:")
    print(f"  shared slots (PostgreSQL): peak {peak} in flight at Autotask, {seconds:.1f} s")
    print(f"  per-process limits only:   peak {alone_peak} in flight at Autotask, "
          f"{alone_seconds:.1f} s (Autotask would refuse every call above 3)")  # fmt: skip
    local_ms = await per_call_ms(EntityLimiter(3))
    one = shared(url)
    shared_ms = await per_call_ms(one)
    await one.close()
    print(f"cost per call, latency 0: per-process {local_ms:.2f} ms, shared {shared_ms:.2f} ms "
          f"(+{shared_ms - local_ms:.2f} ms for taking and freeing the slot)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))  # fmt: skip
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.calls, args.latency))
