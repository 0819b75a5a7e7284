"""The sandbox served over real HTTP, as ``onboard-bot sandbox`` serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from bot.sandbox_server import create_sandbox_app
from services.autotask.sandbox import SandboxTransport, build_tenant


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, SandboxTransport]]:
    """The server's root URL (the API is under ``/ATServicesRest/``) and its transport."""
    transport = SandboxTransport(build_tenant(), enforce_zone_host=False)
    server = TestServer(create_sandbox_app(transport), host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}", transport
    finally:
        await server.close()
