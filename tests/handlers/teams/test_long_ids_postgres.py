"""Real Teams user ids on PostgreSQL, which (unlike SQLite) refuses a value longer than its column.

Teams ids (``29:1...``) are over 100 characters; every row holding a chat user id takes them: the
draft, the onboarding's requester, the audit trail, the personal chat's reference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select as sql_select

from services.store.tables import AuditEvent, ChatConversation, Draft, Onboarding
from tests.handlers.teams.form_support import break_fix_review, press
from tests.onboarding_support import reset_database
from tests.teams_harness import Harness, running_bot
from tests.teams_stub import MARTA, bot_added

pytestmark = pytest.mark.postgres


@pytest.fixture
async def teams_on_postgres(tmp_path: Path, postgres_url: str) -> AsyncIterator[Harness]:
    await reset_database(postgres_url)
    async with running_bot(tmp_path, database_url=postgres_url) as harness:
        yield harness
    await reset_database(postgres_url)


async def test_a_teams_onboarding_with_a_real_length_user_id_is_saved_and_applied(
    teams_on_postgres: Harness,
) -> None:
    teams = teams_on_postgres
    assert len(MARTA) > 100
    await teams.post(bot_added(teams.stub.url))
    await teams.settle()
    review = await break_fix_review(teams)  # a draft saved after every page
    async with teams.container.db.transaction() as session:
        [draft_owner] = (await session.execute(sql_select(Draft.user_id))).scalars().all()
    assert draft_owner == MARTA
    reply = await press(teams, review, "onboard.apply")
    assert "has started" in reply.body["task"]["value"]
    await teams.settle()

    async with teams.container.db.transaction() as session:
        [onboarding] = (await session.execute(sql_select(Onboarding))).scalars().all()
        actors = set((await session.execute(sql_select(AuditEvent.actor))).scalars().all())
        [chat_user] = (await session.execute(sql_select(ChatConversation.user_id))).scalars().all()
    assert chat_user == MARTA
    assert onboarding.requested_by == MARTA and onboarding.status == "applied"
    assert MARTA in actors
