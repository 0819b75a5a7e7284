"""One holder at a time of a named piece of work, across every replica on PostgreSQL.

Some work reads Autotask, decides, and then writes (the company webhook's sync: "none of ours
exists, create one"); two replicas doing it at once both decide to create. Holding a named lock
around it makes the second one read what the first one wrote.

- PostgreSQL: a session-level advisory lock, taken on a connection of its own in autocommit mode,
  so no transaction stays open across the Autotask calls made under it; a replica that dies
  frees it as its connection closes.
- SQLite (one process per file): an asyncio lock per name in this process.

The lock key is a hash of the name; two names that collide only wait for each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# The advisory-lock class id of named locks ("ONBL"); the slot locks hash into other ids.
NAMED_LOCK_CLASS = 0x4F4E424C
_LOCK = text("SELECT pg_advisory_lock(CAST(:cls AS integer), CAST(:key AS integer))")
_UNLOCK = text("SELECT pg_advisory_unlock(CAST(:cls AS integer), CAST(:key AS integer))")
_LOCAL: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def lock_key(name: str) -> int:
    digest = hashlib.sha256(f"onboard-bot/named-lock\0{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


@asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Run the body while no other holder of ``name`` (in any replica on PostgreSQL) runs."""
    if engine.dialect.name != "postgresql":
        locks = _LOCAL.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault(name, asyncio.Lock()):
            yield
        return
    params = {"cls": NAMED_LOCK_CLASS, "key": lock_key(name)}
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(_LOCK, params)
        try:
            yield
        finally:
            await connection.execute(_UNLOCK, params)
