"""A running bot with Teams' connector and Autotask faked at their wire: for Teams tests.

The bot is the real aiohttp server of ``create_app`` on a free port; activities are POSTed to its
``/api/messages`` and whatever the bot sends goes to the ``TeamsStub`` named by ``serviceUrl``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.container import Container, build
from bot.server import create_app
from bot.settings import Settings
from bot.teams import TEAMS, TeamsBot
from services.autotask.sandbox import SandboxTransport, build_tenant
from services.store.migrate import upgrade
from tests.support import Reply
from tests.teams_stub import DAN, MARTA, NOEMAIL, VISITOR, TeamsStub, member, running_stub

APP_ID = "3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d"
TENANT_ID = "8d2e4f60-1a3b-4c5d-8e9f-0a1b2c3d4e5f"
PASSWORD = "teams-client-secret-value-never-logged"

MEMBERS = {
    MARTA: member(MARTA, "marta.ruiz@brightline-it.example", "Marta Ruiz"),
    DAN: member(DAN, "dan.okafor@brightline-it.example", "Dan Okafor"),
    VISITOR: member(VISITOR, "visitor@elsewhere.example", "A Visitor"),
    NOEMAIL: member(NOEMAIL, None, "Guest"),
}


@dataclass
class Harness:
    stub: TeamsStub
    sandbox: SandboxTransport
    container: Container
    bot: TeamsBot
    url: str
    http: aiohttp.ClientSession

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        started = time.monotonic()
        async with self.http.post(self.url, json=activity, headers=headers or {}) as response:
            text = await response.text()
            seconds = time.monotonic() - started
        return Reply.of(response.status, text, seconds)

    async def settle(self) -> None:
        """Wait for work the bot does after answering (storing conversation references)."""
        await self.bot.deps.background.drain()


def teams_settings(tmp_path: Path, *, credentials: bool = False, **overrides: Any) -> Settings:
    creds: dict[str, Any] = (
        {"teams_app_id": APP_ID, "teams_app_password": PASSWORD, "teams_tenant_id": TENANT_ID}
        if credentials
        else {}
    )
    return Settings(
        _env_file=None,
        database_url=overrides.pop("database_url", None)
        or f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}",
        sandbox_state_file=None,
        **creds,
        **overrides,
    )


@asynccontextmanager
async def running_bot(
    tmp_path: Path, *, credentials: bool = False, latency: float = 0.0, **overrides: Any
) -> AsyncIterator[Harness]:
    stub = TeamsStub(members=dict(MEMBERS))
    async with running_stub(stub):
        settings = teams_settings(tmp_path, credentials=credentials, **overrides)
        await upgrade(settings.database_url)
        sandbox = SandboxTransport(build_tenant(), latency=latency)
        async with build(settings, sandbox=sandbox) as container:
            web_app = create_app(container)
            server = TestServer(web_app, host="127.0.0.1")
            await server.start_server()
            bot = web_app[TEAMS]
            async with aiohttp.ClientSession() as http:
                harness = Harness(stub, sandbox, container, bot,
                                  f"http://127.0.0.1:{server.port}/api/messages", http)  # fmt: skip
                try:
                    yield harness
                finally:
                    await harness.settle()
                    await server.close()
