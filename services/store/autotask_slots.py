"""Autotask's "3 calls in flight per entity" limit, shared by every replica through PostgreSQL.

Autotask counts threads per (API integration code, entity endpoint) across every process that uses
the integration code, so a per-process semaphore is not enough once two replicas run. Here each of
the 3 slots of an (integration code, entity) pair is a PostgreSQL session-level advisory lock,
held while the call is in flight:

- PostgreSQL arbitrates; no other server is needed.
- One dedicated connection per replica holds all of that replica's slot locks, however many
  entities are busy: taking or freeing a slot is one short statement on it, serialised by an
  asyncio lock. The replica's main pool is never used, so slots never starve page saves.
- A replica that dies frees its slots: its connection closes, and session locks go with it.
  Server-side TCP keepalives (set on the connection) bound a host that vanished without closing
  its sockets to about half a minute.
- Session-level advisory locks are re-entrant within one session, so the replica keeps its own
  list of the slots it holds and never asks PostgreSQL for one of them twice.
- A caller that finds no free slot waits with capped, jittered back-off: the per-replica
  ``EntityLimiter`` in front means at most ``AUTOTASK_CONCURRENCY`` callers per entity and
  replica ever poll.
- If the database cannot be reached, calls go on under the per-replica limit alone (logged);
  Autotask's own thread-limit rejections are then retried by the client as before.

The lock key is a hash of the integration code and the entity, never the code itself: the code
is a secret, and ``pg_locks`` is readable by every database user.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from services.autotask.limits import EntityLimiter, RetryPolicy, Sleep

logger = logging.getLogger(__name__)

AUTOTASK_THREADS_PER_ENTITY = 3  # Autotask's documented limit per integration code and entity
POLL = RetryPolicy(max_retries=0, base_delay=0.02, max_delay=0.5)
RECONNECT_SECONDS = 5.0
# The backend drops the connection (and its locks) ~10 + 5 * 3 s after the host stops answering.
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)
_CLIENT_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                      "keepalives_count": 3, "connect_timeout": 5}  # fmt: skip

_UNLOCK = text("SELECT pg_advisory_unlock(CAST(:key AS integer), CAST(:slot AS integer))")


def lock_engine(url: str) -> AsyncEngine:
    """An engine for the slot-lock connection alone: no pool, the connection is held for life."""
    connect_args = _CLIENT_KEEPALIVES if url.startswith("postgresql+psycopg") else {}
    return create_async_engine(url, poolclass=NullPool, connect_args=dict(connect_args))


def slot_key(scope: str, entity: str) -> int:
    """The advisory-lock class id of one (integration code, entity) pair: a signed 32-bit hash.

    Two pairs that collide would share 3 slots: slower, never over the limit.
    """
    digest = hashlib.sha256(f"onboard-bot/autotask-slot\0{scope}\0{entity.lower()}".encode())
    return int.from_bytes(digest.digest()[:4], "big", signed=True)


@dataclass(frozen=True)
class _Ticket:
    key: int
    slot: int | None  # None: taken while the database was unreachable (per-replica limit only)
    generation: int


class SharedEntityLimiter:
    """At most 3 calls in flight per entity across every replica on one PostgreSQL database.

    ``local`` caps this replica first (``AUTOTASK_CONCURRENCY``); ``scope`` is the Autotask
    integration code, so two integrations on one database never share slots.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        scope: str,
        local: EntityLimiter,
        per_entity: int = AUTOTASK_THREADS_PER_ENTITY,
        poll: RetryPolicy = POLL,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.local = local
        self.per_entity = per_entity
        self._scope = scope
        self._poll = poll
        self._sleep = sleep
        self._clock = clock
        self._lock = asyncio.Lock()
        self._conn: AsyncConnection | None = None
        self._generation = 0
        self._held: set[tuple[int, int]] = set()
        self._down_until = 0.0
        self._releases: set[asyncio.Task[None]] = set()
        self.waits = 0  # polls that found every slot taken, for tests and benchmarks

    @asynccontextmanager
    async def slot(self, entity: str) -> AsyncIterator[None]:
        async with self.local.slot(entity):
            ticket = await self._acquire(slot_key(self._scope, entity))
            try:
                yield
            finally:
                # Shielded: a cancelled caller must still free the slot, or it is lost tenant-wide.
                await asyncio.shield(self._release(ticket))

    async def close(self) -> None:
        async with self._lock:
            await self._drop()
        await self.engine.dispose()

    # ----- taking and freeing a slot ----------------------------------------------------------

    async def _acquire(self, key: int) -> _Ticket:
        attempt = 0
        while True:
            attempt_task = asyncio.ensure_future(self._try(key))
            try:
                ticket = await asyncio.shield(attempt_task)
            except asyncio.CancelledError:
                attempt_task.add_done_callback(self._release_abandoned)
                raise
            if ticket is not None:
                return ticket
            self.waits += 1
            await self._sleep(self._poll.delay(min(attempt, 10)))
            attempt += 1

    def _release_abandoned(self, attempt: asyncio.Future[_Ticket | None]) -> None:
        """The caller was cancelled while PostgreSQL granted the slot: give it straight back."""
        if attempt.cancelled() or attempt.exception() is not None:
            return
        ticket = attempt.result()
        if ticket is not None:
            release = asyncio.ensure_future(self._release(ticket))
            self._releases.add(release)
            release.add_done_callback(self._releases.discard)

    async def _try(self, key: int) -> _Ticket | None:
        async with self._lock:
            conn = await self._connection()
            if conn is None:
                return _Ticket(key, None, self._generation)
            free = [i for i in range(self.per_entity) if (key, i) not in self._held]
            if not free:
                return None
            # CASE stops at the first lock it gets, so at most one slot is taken per statement.
            whens = " ".join(f"WHEN pg_try_advisory_lock(CAST(:key AS integer), {i}) THEN {i}"
                             for i in free)  # fmt: skip
            statement = text(f"SELECT CASE {whens} ELSE -1 END")  # slot numbers are ours, not input
            try:
                got = (await conn.execute(statement, {"key": key})).scalar_one()
            except (DBAPIError, SQLAlchemyError, OSError) as exc:
                await self._lost(exc)
                return _Ticket(key, None, self._generation)
            if got < 0:
                return None
            self._held.add((key, int(got)))
            return _Ticket(key, int(got), self._generation)

    async def _release(self, ticket: _Ticket) -> None:
        if ticket.slot is None:
            return
        async with self._lock:
            # A ticket from a connection that has since died was freed with it; the same slot
            # may now be held by another caller on the new connection.
            if ticket.generation != self._generation or self._conn is None:
                return
            self._held.discard((ticket.key, ticket.slot))
            try:
                await self._conn.execute(_UNLOCK, {"key": ticket.key, "slot": ticket.slot})
            except (DBAPIError, SQLAlchemyError, OSError) as exc:
                await self._lost(exc)

    # ----- the connection ---------------------------------------------------------------------

    async def _connection(self) -> AsyncConnection | None:
        if self._conn is not None:
            return self._conn
        if self._clock() < self._down_until:
            return None
        try:
            conn = await self.engine.connect()
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in _SERVER_KEEPALIVES:
                await conn.execute(text(statement))
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            self._down_until = self._clock() + RECONNECT_SECONDS
            logger.warning(
                "Autotask slot locks unavailable (%s): calls are limited per replica only "
                "until the database answers", type(exc).__name__,
            )  # fmt: skip
            return None
        self._conn = conn
        return conn

    async def _lost(self, exc: BaseException) -> None:
        logger.warning(
            "lost the Autotask slot-lock connection (%s); its slots are freed, reconnecting",
            type(exc).__name__,
        )
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._held.clear()
        self._generation += 1
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()
