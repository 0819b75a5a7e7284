"""Conversation references: one row per conversation, even when replicas store it at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.conversations import Conversation, Conversations
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from tests.onboarding_support import reset_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def conversations(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Conversations]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        await reset_database(url)
    await upgrade(url)
    engine = make_engine(url)
    yield Conversations(Database(engine))
    await engine.dispose()
    if request.param == "postgresql":
        await reset_database(url)


def chat(
    service_url: str = "https://smba.trafficmanager.net/emea/", **changes: str
) -> Conversation:
    values: dict[str, Any] = {
        "platform": "teams", "conversation_id": "a:1", "kind": "personal", "user_id": "29:u",
        "directory_id": "aad-u", "tenant_id": "t", "locale": "en-US",
        "reference": {"serviceUrl": service_url, "conversation": {"id": "a:1"}},
    } | changes  # fmt: skip
    return Conversation(**values)


async def test_the_latest_reference_wins_and_the_row_is_one(conversations: Conversations) -> None:
    await conversations.remember(chat())
    await conversations.remember(chat("https://smba.trafficmanager.net/amer/", locale="es-ES"))

    found = await conversations.personal(platform="teams", directory_id="aad-u")
    assert found is not None
    assert found.reference["serviceUrl"] == "https://smba.trafficmanager.net/amer/"
    assert found.locale == "es-ES"
    assert await conversations.personal(platform="slack", user_id="29:u") is None


async def test_replicas_storing_the_same_install_at_once_all_succeed(
    conversations: Conversations,
) -> None:
    await asyncio.gather(*(conversations.remember(chat(locale=f"l{i}")) for i in range(5)))
    found = await conversations.get(platform="teams", conversation_id="a:1")
    assert found is not None and found.locale in {f"l{i}" for i in range(5)}


async def test_a_removed_conversation_is_not_offered_until_installed_again(
    conversations: Conversations,
) -> None:
    await conversations.remember(chat())
    assert await conversations.forget(platform="teams", conversation_id="a:1")
    assert await conversations.personal(platform="teams", user_id="29:u") is None
    assert not await conversations.forget(platform="teams", conversation_id="a:unknown")
    await conversations.remember(chat())
    assert await conversations.personal(platform="teams", user_id="29:u") is not None
