"""An engine wired to the sandbox and a fresh SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.onboarding.runner import Runner
from services.store.db import Database
from tests.onboarding_support import sqlite_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path / "engine.db") as database:
        yield database


@pytest.fixture
def runner(autotask: AutotaskClient, db: Database) -> Runner:
    return Runner(client=autotask, reference=ReferenceData(autotask), db=db)
