"""The real aiohttp server with Bolt, a local Slack Web API, and the Autotask sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.slack_harness import Harness, running_bot


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path) as harness:
        yield harness
    assert harness.stub.invalid == [], (
        f"views or messages Slack would refuse: {harness.stub.invalid}"
    )
