from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.store.db import Database
from tests.onboarding_support import sqlite_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path / "devices.db") as database:
        yield database
