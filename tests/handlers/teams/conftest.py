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


@pytest.fixture
def expected_errors() -> list[str]:
    """ERROR lines a test expects from code that is not ours (the SDK logs a refused connector
    call at ERROR before raising): each must appear, and nothing else may."""
    return []


@pytest.fixture(autouse=True)
def teams_health(expected_errors: list[str]) -> Iterator[None]:
    STUBS.clear()
    with errors_logged() as log:
        yield
    said = [r.getMessage() for r in log.records]
    found = [f"expected ERROR not logged: {e}" for e in expected_errors if e not in said]
    found += [f"ERROR logged: {m}" for m in said if m not in expected_errors]
    found += [problem for stub in STUBS for problem in stub.invalid]
    STUBS.clear()
    if found:
        pytest.fail("\n".join(found), pytrace=False)


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path) as harness:
        yield harness
