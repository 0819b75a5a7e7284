"""The real aiohttp server with the Agents SDK, a local Bot Connector, and the Autotask sandbox.

Every test here also fails if anything logged an ERROR (the SDK answers 202 to a message whose
handler crashed) or if the bot sent Teams a card it would refuse or mangle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.slack_checks import errors_logged
from tests.teams_harness import Harness, running_bot
from tests.teams_stub import STUBS


@pytest.fixture(autouse=True)
def teams_health() -> Iterator[None]:
    STUBS.clear()
    with errors_logged() as log:
        yield
    found = [f"ERROR logged: {r.getMessage()}" for r in log.records]
    found += [problem for stub in STUBS for problem in stub.invalid]
    STUBS.clear()
    if found:
        pytest.fail("\n".join(found), pytrace=False)


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path) as harness:
        yield harness
