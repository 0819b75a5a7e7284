"""Apply the Alembic migrations (``onboard-bot migrate``, and at start-up)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str) -> None:
    """Bring the schema to head. Alembic's env runs its own loop, so it gets a thread of its own."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def check(url: str) -> None:
    """Raise if the tables in code and the migrated schema differ."""
    await asyncio.to_thread(command.check, alembic_config(url))
