"""Concurrency, retry and hourly-budget policies shared by every Autotask call of the process.

Autotask allows 3 calls in flight per (integration code, entity endpoint) and 10,000 calls an hour
per tenant, shared with every other integration. Exceeding either breaks *other* integrations of
the MSP too, so the client stays under both instead of relying on rejections.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class CallSlots(Protocol):
    """Where every Autotask call waits for its turn: one slot per call in flight, per entity.

    ``EntityLimiter`` is the per-process implementation; on PostgreSQL ``bot/container.py`` puts
    one in front of a limiter that every replica shares (``services/store/autotask_slots.py``),
    so this package never needs to know about the database.
    """

    def slot(self, entity: str) -> AbstractAsyncContextManager[None]: ...


class EntityLimiter:
    """At most ``per_entity`` calls in flight for each entity endpoint, in this process.

    On its own it is the whole limit (SQLite: one process); in front of the shared limiter it is
    the per-replica cap. Records the peak per entity so tests and benchmarks can prove the bound.
    """

    def __init__(self, per_entity: int = 3, overrides: dict[str, int] | None = None) -> None:
        if per_entity < 1:
            raise ValueError("per_entity must be at least 1")
        self.per_entity = per_entity
        self._overrides = dict(overrides or {})
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self.in_flight: dict[str, int] = defaultdict(int)
        self.peak: dict[str, int] = defaultdict(int)

    def _semaphore(self, entity: str) -> asyncio.Semaphore:
        key = entity.lower()
        if key not in self._semaphores:
            self._semaphores[key] = asyncio.Semaphore(self._overrides.get(key, self.per_entity))
        return self._semaphores[key]

    @asynccontextmanager
    async def slot(self, entity: str) -> AsyncIterator[None]:
        key = entity.lower()
        async with self._semaphore(entity):
            self.in_flight[key] += 1
            self.peak[key] = max(self.peak[key], self.in_flight[key])
            try:
                yield
            finally:
                self.in_flight[key] -= 1


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter, capped; ``Retry-After`` wins when Autotask sends it."""

    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return self.rng.uniform(ceiling / 2, ceiling)


NO_DELAY_RETRIES = RetryPolicy(base_delay=0.0, max_delay=0.0)


@dataclass
class ThresholdReading:
    limit: int
    used: int
    timeframe_minutes: int
    read_at: float

    @property
    def ratio(self) -> float:
        return self.used / self.limit if self.limit else 0.0


class ThresholdMonitor:
    """Paces bulk work by the tenant's hourly budget, read from ``ThresholdInformation``.

    The reading itself costs a call, so it is refreshed at most every ``refresh_seconds``.
    Above ``slow_ratio`` bulk work waits ``slow_delay`` per call; above ``pause_ratio`` it waits
    ``pause_seconds`` and reads again until the budget drains.
    """

    def __init__(
        self,
        read: Callable[[], Awaitable[ThresholdReading]],
        *,
        refresh_seconds: float = 180.0,
        slow_ratio: float = 0.5,
        pause_ratio: float = 0.9,
        slow_delay: float = 0.5,
        pause_seconds: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self._read = read
        self.refresh_seconds = refresh_seconds
        self.slow_ratio = slow_ratio
        self.pause_ratio = pause_ratio
        self.slow_delay = slow_delay
        self.pause_seconds = pause_seconds
        self._sleep = sleep
        self._clock = clock
        self._lock = asyncio.Lock()
        self.reading: ThresholdReading | None = None
        self.reads = 0
        self.slowed = 0
        self.paused = 0

    async def current(self, *, force: bool = False) -> ThresholdReading:
        async with self._lock:
            stale = (
                self.reading is None or self._clock() - self.reading.read_at >= self.refresh_seconds
            )
            if force or stale:
                self.reading = await self._read()
                self.reads += 1
            assert self.reading is not None
            return self.reading

    async def pace(self) -> None:
        reading = await self.current()
        while reading.ratio >= self.pause_ratio:
            self.paused += 1
            logger.warning(
                "Autotask hourly budget at %.0f%% (%d of %d): pausing bulk work for %.0f s",
                reading.ratio * 100, reading.used, reading.limit, self.pause_seconds,
            )  # fmt: skip
            await self._sleep(self.pause_seconds)
            reading = await self.current(force=True)
        if reading.ratio >= self.slow_ratio:
            self.slowed += 1
            await self._sleep(self.slow_delay)
