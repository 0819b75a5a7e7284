"""The database engine: SQLite by default, PostgreSQL through ``DATABASE_URL``."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def make_engine(url: str) -> AsyncEngine:
    return create_async_engine(url, pool_pre_ping=True)


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot be reached."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def describe(url: str) -> str:
    """The URL without its password, for logs and start-up lines."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
