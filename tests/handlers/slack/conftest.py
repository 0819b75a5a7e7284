"""The real aiohttp server with Bolt, a local Slack Web API, and the Autotask sandbox.

Every test here also fails if anything logged an ERROR (Bolt logs a crashed listener and still
answers 200), if Slack would have refused a view or message, or if a message's fallback text does
not say what its blocks say.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.slack_checks import errors_logged, problems
from tests.slack_harness import Harness, running_bot
from tests.slack_stub import STUBS


@pytest.fixture(autouse=True)
def slack_health() -> Iterator[None]:
    STUBS.clear()
    with errors_logged() as log:
        yield
    found = problems(STUBS, log)
    STUBS.clear()
    if found:
        pytest.fail("\n".join(found), pytrace=False)


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path) as harness:
        yield harness
