"""Reads and writes of our own tables. Repositories add and flush; the caller's transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Executable, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.store.tables import (
    AuditEvent,
    ChatConversation,
    Draft,
    Onboarding,
    StepRun,
    new_id,
    utcnow,
)


async def matched(session: AsyncSession, stmt: Executable) -> int:
    """How many rows an UPDATE matched. ``AsyncSession.execute`` is typed as returning a
    ``Result``; for DML it is a ``CursorResult``, the one that carries ``rowcount``."""
    result = await session.execute(stmt)
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(stmt).__name__} gave no row count")
    return result.rowcount


# ----- drafts ------------------------------------------------------------------------------------


async def save_draft(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    answers: dict[str, Any],
    page: str,
    draft_id: str | None = None,
    company_id: int | None = None,
    company_name: str | None = None,
) -> Draft:
    draft = await session.get(Draft, draft_id) if draft_id else None
    if draft is None:
        draft = Draft(platform=platform, user_id=user_id)
        if draft_id:
            draft.id = draft_id
        session.add(draft)
    draft.answers = dict(answers)
    draft.page = page
    if company_name is not None or draft.company_id != company_id:  # keep a name we already know
        draft.company_name = company_name
    draft.company_id = company_id
    draft.updated_at = utcnow()
    await session.flush()
    return draft


async def get_draft(session: AsyncSession, *, draft_id: str) -> Draft | None:
    return await session.get(Draft, draft_id)


async def latest_draft(session: AsyncSession, *, platform: str, user_id: str) -> Draft | None:
    stmt = (
        select(Draft)
        .where(Draft.platform == platform, Draft.user_id == user_id)
        .order_by(Draft.updated_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_drafts(session: AsyncSession, *, platform: str, user_id: str) -> Sequence[Draft]:
    stmt = select(Draft).where(Draft.platform == platform, Draft.user_id == user_id)
    return (await session.execute(stmt.order_by(Draft.updated_at.desc()))).scalars().all()


APPLYING = "__applying__"


async def claim_draft(session: AsyncSession, *, draft_id: str) -> bool:
    """Mark a draft as being applied; only the first of two concurrent Apply clicks gets ``True``."""
    stmt = (
        update(Draft)
        .where(Draft.id == draft_id, Draft.page != APPLYING)
        .values(page=APPLYING, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return await matched(session, stmt) == 1


async def delete_draft(session: AsyncSession, *, draft_id: str) -> None:
    draft = await session.get(Draft, draft_id)
    if draft is not None:
        await session.delete(draft)
        await session.flush()


# ----- onboardings -------------------------------------------------------------------------------


async def create_onboarding(
    session: AsyncSession,
    *,
    company_id: int,
    company_name: str,
    platform: str,
    requested_by: str,
    request: dict[str, Any],
    requester_resource_id: int | None = None,
    draft_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Onboarding:
    onboarding = Onboarding(
        company_id=company_id, company_name=company_name, platform=platform,
        requested_by=requested_by, request=request, requester_resource_id=requester_resource_id,
        draft_id=draft_id, meta=meta or {}, status="planned",
    )  # fmt: skip
    session.add(onboarding)
    await session.flush()
    return onboarding


async def get_onboarding(session: AsyncSession, *, onboarding_id: str) -> Onboarding | None:
    stmt = (
        select(Onboarding)
        .where(Onboarding.id == onboarding_id)
        .options(selectinload(Onboarding.steps))
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_onboardings(
    session: AsyncSession,
    *,
    requested_by: str | None = None,
    company_id: int | None = None,
    limit: int = 20,
) -> Sequence[Onboarding]:
    stmt = select(Onboarding).options(selectinload(Onboarding.steps))
    if requested_by is not None:
        stmt = stmt.where(Onboarding.requested_by == requested_by)
    if company_id is not None:
        stmt = stmt.where(Onboarding.company_id == company_id)
    stmt = stmt.order_by(Onboarding.created_at.desc()).limit(limit)
    return (await session.execute(stmt)).scalars().all()


async def claim_onboarding(
    session: AsyncSession,
    *,
    onboarding_id: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    token: str | None = None,
    pickup: bool = False,
    planned_before: datetime | None = None,
) -> bool:
    """Take the run lease under a new ``token``; ``False`` when another front-end or replica
    holds a live one. ``pickup``: only an orphan (an interrupted run: status "applying" with no
    live lease, or "planned" since before ``planned_before``) is taken, and it is counted."""
    free = or_(Onboarding.lease_owner.is_(None), Onboarding.lease_until < now)
    if pickup:
        stranded = Onboarding.status == "applying"
        if planned_before is not None:
            stranded = or_(
                stranded,
                and_(Onboarding.status == "planned", Onboarding.updated_at < planned_before),
            )
        condition = and_(free, stranded)
    else:
        condition = or_(free, Onboarding.lease_owner == owner)
    values: dict[str, Any] = {"lease_owner": owner, "lease_until": now + lease,
                              "lease_token": token or new_id(), "status": "applying",
                              "updated_at": now}  # fmt: skip
    if pickup:
        values["pickups"] = Onboarding.pickups + 1
    stmt = (
        update(Onboarding)
        .where(Onboarding.id == onboarding_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return await matched(session, stmt) == 1


async def renew_lease(
    session: AsyncSession, *, onboarding_id: str, token: str, now: datetime, lease: timedelta
) -> bool:
    """Extend the lease if this claim still holds it: one statement, the fence of every write
    and step record. ``False``: another process took the run over (or it was handed back)."""
    stmt = (
        update(Onboarding)
        .where(Onboarding.id == onboarding_id, Onboarding.lease_token == token)
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return await matched(session, stmt) == 1


async def release_onboarding(
    session: AsyncSession, *, onboarding_id: str, token: str, status: str
) -> bool:
    """End the claim with the run's outcome; ``False`` (nothing stored) if it was lost."""
    stmt = (
        update(Onboarding)
        .where(Onboarding.id == onboarding_id, Onboarding.lease_token == token)
        .values(
            lease_owner=None, lease_until=None, lease_token=None, status=status, updated_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    return await matched(session, stmt) == 1


async def release_leases(session: AsyncSession, *, owner: str) -> int:
    """Hand back every run lease ``owner`` holds (a replica shutting down); statuses stay."""
    stmt = (
        update(Onboarding)
        .where(Onboarding.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, lease_token=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return await matched(session, stmt)


async def orphans(
    session: AsyncSession, *, now: datetime, planned_before: datetime, limit: int = 20
) -> Sequence[Onboarding]:
    """Runs nobody is applying although they should be: "applying" with no live lease (its
    process died or was drained), or "planned" (stored at Apply) but never started."""
    free = or_(Onboarding.lease_owner.is_(None), Onboarding.lease_until < now)
    stmt = (
        select(Onboarding)
        .where(
            free,
            or_(
                Onboarding.status == "applying",
                and_(Onboarding.status == "planned", Onboarding.updated_at < planned_before),
            ),
        )
        .order_by(Onboarding.updated_at)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def unfinished_onboardings(
    session: AsyncSession,
    *,
    platform: str,
    requested_by: str,
    now: datetime,
    planned_before: datetime,
    limit: int = 10,
) -> Sequence[Onboarding]:
    """One person's failed onboardings and their stranded ones (no live lease), newest first."""
    free = or_(Onboarding.lease_owner.is_(None), Onboarding.lease_until < now)
    stmt = (
        select(Onboarding)
        .options(selectinload(Onboarding.steps))
        .where(
            Onboarding.platform == platform,
            Onboarding.requested_by == requested_by,
            or_(
                Onboarding.status == "failed",
                and_(Onboarding.status == "applying", free),
                and_(Onboarding.status == "planned", free, Onboarding.updated_at < planned_before),
            ),
        )
        .order_by(Onboarding.updated_at.desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def give_up_orphan(
    session: AsyncSession, *, onboarding_id: str, now: datetime, max_pickups: int, error: str
) -> bool:
    """An orphan resumed ``max_pickups`` times already becomes "failed" (shown with Retry), its
    unfinished step failed with ``error`` so the status and the steps agree. Only one of several
    sweeping replicas gets ``True``."""
    stmt = (
        update(Onboarding)
        .where(
            Onboarding.id == onboarding_id,
            Onboarding.status.in_(("applying", "planned")),
            or_(Onboarding.lease_owner.is_(None), Onboarding.lease_until < now),
            Onboarding.pickups >= max_pickups,
        )
        .values(
            status="failed", lease_owner=None, lease_until=None, lease_token=None, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if await matched(session, stmt) != 1:
        return False
    steps = await step_runs(session, onboarding_id=onboarding_id)
    unfinished = [s for s in steps if s.state not in ("done", "skipped")]
    target = next((s for s in unfinished if s.state == "running"), None) or (
        unfinished[0] if unfinished else None
    )
    if target is not None:
        target.state, target.error, target.finished_at = "failed", error, now
    await session.flush()
    return True


async def request_cancel(session: AsyncSession, *, onboarding_id: str) -> bool:
    stmt = (
        update(Onboarding)
        .where(
            Onboarding.id == onboarding_id, Onboarding.status.in_(("planned", "applying", "failed"))
        )
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    return await matched(session, stmt) == 1


async def cancel_requested(session: AsyncSession, *, onboarding_id: str) -> bool:
    stmt = select(Onboarding.cancel_requested).where(Onboarding.id == onboarding_id)
    return bool((await session.execute(stmt)).scalar_one_or_none())


async def cancel_remaining(session: AsyncSession, *, onboarding_id: str) -> None:
    """Every step not done or skipped becomes cancelled."""
    stmt = (
        update(StepRun)
        .where(StepRun.onboarding_id == onboarding_id, StepRun.state.not_in(("done", "skipped")))
        .values(state="cancelled")
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def begin_step(
    session: AsyncSession, *, onboarding_id: str, key: str, state: str, now: datetime
) -> None:
    """A step starts ("running": one more attempt) or is passed over ("skipped": nothing to do)."""
    values: dict[str, Any] = {"state": state, "error": None}
    if state == "running":
        values |= {"attempts": StepRun.attempts + 1, "started_at": now}
    else:
        values["finished_at"] = now
    await _set_step(session, onboarding_id, key, values)


async def end_step(
    session: AsyncSession,
    *,
    onboarding_id: str,
    key: str,
    state: str,
    now: datetime,
    error: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {"state": state, "error": error, "finished_at": now}
    if result is not None:
        values["result"] = result
    await _set_step(session, onboarding_id, key, values)


async def _set_step(
    session: AsyncSession, onboarding_id: str, key: str, values: dict[str, Any]
) -> None:
    """One UPDATE by the step's key: no read of the step rows first."""
    stmt = (
        update(StepRun)
        .where(StepRun.onboarding_id == onboarding_id, StepRun.key == key)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def step_runs(session: AsyncSession, *, onboarding_id: str) -> Sequence[StepRun]:
    stmt = select(StepRun).where(StepRun.onboarding_id == onboarding_id).order_by(StepRun.position)
    return (await session.execute(stmt)).scalars().all()


async def record_event(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    onboarding_id: str | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEvent(
        onboarding_id=onboarding_id, actor=actor, action=action, entity=entity,
        entity_id=entity_id, detail=detail or {},
    ))  # fmt: skip
    await session.flush()


async def audit_trail(session: AsyncSession, *, onboarding_id: str) -> Sequence[AuditEvent]:
    stmt = (
        select(AuditEvent).where(AuditEvent.onboarding_id == onboarding_id).order_by(AuditEvent.id)
    )
    return (await session.execute(stmt)).scalars().all()


# ----- chat conversations (where proactive messages go) -----------------------------------------


async def upsert_conversation(
    session: AsyncSession, *, platform: str, conversation_id: str, values: dict[str, Any]
) -> None:
    """One row per conversation whoever writes first: two replicas seeing the same install at
    once both succeed, and the later reference wins (it is the fresher one)."""
    now = utcnow()
    row = {"platform": platform, "conversation_id": conversation_id, **values,
           "removed_at": None, "updated_at": now}  # fmt: skip
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(ChatConversation).values(**row, created_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "conversation_id"],
        set_={key: stmt.excluded[key] for key in row if key not in ("platform", "conversation_id")},
    )
    await session.execute(stmt)


async def get_conversation(
    session: AsyncSession, *, platform: str, conversation_id: str
) -> ChatConversation | None:
    stmt = select(ChatConversation).where(
        ChatConversation.platform == platform, ChatConversation.conversation_id == conversation_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def personal_conversation(
    session: AsyncSession, *, platform: str, user_id: str | None, directory_id: str | None
) -> ChatConversation | None:
    """The person's own chat with the bot (by platform user id or directory id), if installed."""
    who = [
        *([ChatConversation.user_id == user_id] if user_id else []),
        *([ChatConversation.directory_id == directory_id] if directory_id else []),
    ]
    return await _newest_personal(session, platform, or_(*who)) if who else None


async def personal_conversation_by_email(
    session: AsyncSession, *, platform: str, email: str
) -> ChatConversation | None:
    """The newest personal chat whose member has this (lower-cased) e-mail, if still installed."""
    return await _newest_personal(session, platform, ChatConversation.email == email)


async def _newest_personal(
    session: AsyncSession, platform: str, who: ColumnElement[bool]
) -> ChatConversation | None:
    stmt = (
        select(ChatConversation)
        .where(
            ChatConversation.platform == platform,
            ChatConversation.kind == "personal",
            ChatConversation.removed_at.is_(None),
            who,
        )
        .order_by(ChatConversation.updated_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_conversation_removed(
    session: AsyncSession, *, platform: str, conversation_id: str
) -> int:
    stmt = (
        update(ChatConversation)
        .where(
            ChatConversation.platform == platform,
            ChatConversation.conversation_id == conversation_id,
        )
        .values(removed_at=utcnow())
    )
    return await matched(session, stmt)
