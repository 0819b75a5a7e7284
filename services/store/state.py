"""Small shared state of the replicas: the company webhook's health, and job runs.

Repositories add and flush; the caller's transaction commits. Every write here is a single
conditional statement, so replicas racing on the same row never both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.store.tables import JobRun, WebhookState


def _rowcount(result: Any) -> int:
    """Rows an INSERT or UPDATE touched (``execute`` is typed as returning a plain ``Result``)."""
    return int(cast(CursorResult[Any], result).rowcount)


def _insert_ignoring_duplicates(session: AsyncSession, table: Any, values: dict[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(**values).on_conflict_do_nothing()


async def claim_job_run(
    session: AsyncSession, *, name: str, now: datetime, every: timedelta
) -> bool:
    """``True`` for the one caller, of all replicas, that may run ``name`` now (at most once per
    ``every``)."""
    first = await session.execute(
        _insert_ignoring_duplicates(session, JobRun, {"name": name, "last_run_at": now}).returning(
            JobRun.name
        )  # psycopg reports no rowcount for ON CONFLICT DO NOTHING
    )
    if first.first() is not None:
        return True
    claimed = await session.execute(
        update(JobRun)
        .where(JobRun.name == name, JobRun.last_run_at <= now - every)
        .values(last_run_at=now)
    )
    return _rowcount(claimed) == 1


async def webhook_state(session: AsyncSession, *, name: str) -> WebhookState | None:
    return await session.get(WebhookState, name)


async def save_webhook_state(session: AsyncSession, *, name: str, **values: Any) -> None:
    """Create or update the row of the webhook called ``name`` (two replicas may sync at once)."""
    await session.execute(_insert_ignoring_duplicates(session, WebhookState, {"name": name}))
    await session.execute(update(WebhookState).where(WebhookState.name == name).values(**values))


async def record_callback(
    session: AsyncSession, *, name: str, now: datetime, every: timedelta
) -> None:
    """A signed callout arrived: the webhook delivers. Written at most once per ``every``."""
    await session.execute(
        update(WebhookState)
        .where(
            WebhookState.name == name,
            or_(
                WebhookState.last_callback_at.is_(None), WebhookState.last_callback_at < now - every
            ),
        )
        .values(last_callback_at=now)
    )


async def record_deactivation(session: AsyncSession, *, name: str, now: datetime) -> None:
    await session.execute(
        update(WebhookState)
        .where(WebhookState.name == name, WebhookState.deactivated_at.is_(None))
        .values(deactivated_at=now, status="deactivated")
    )
