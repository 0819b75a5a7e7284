"""/readyz of a real ``onboard-bot run`` follows the database and Autotask, both ways, while
/healthz stays about the process."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import httpx
import pytest

from services.autotask.sandbox import SandboxTransport, build_tenant
from tests.process import BotProcess, autotask_env, bot_process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _ready_again(bot: BotProcess, within: float = 30.0) -> tuple[int, object]:
    """Probe as a load balancer would (every half second) until ready, or give up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        status, body = await bot.get("/readyz")
        if status == 200 or loop.time() > deadline:
            return status, body
        await asyncio.sleep(0.5)


async def test_not_ready_while_autotask_is_unreachable_and_ready_once_it_answers(
    tmp_path: Path,
) -> None:
    port = _free_port()  # nothing listens there yet: Autotask is "down"
    async with bot_process(tmp_path, {**autotask_env(port), "AUTOTASK_MAX_RETRIES": "2"}) as bot:
        await bot.wait_for_output("Autotask unreachable")  # the start-up warm-up found out
        status, body = await bot.get("/readyz")
        assert status == 503 and "TransportError" in body["autotask"]
        assert await bot.get("/healthz") == (200, {"status": "ok"})

        async with _sandbox_on(port):
            assert await _ready_again(bot) == (200, {"status": "ready"})
        await bot.wait_for_output("Autotask reachable again")
        assert await bot.stop() == 0


@asynccontextmanager
async def _sandbox_on(port: int) -> AsyncIterator[None]:
    from aiohttp import web

    from bot.sandbox_server import create_sandbox_app

    runner = web.AppRunner(
        create_sandbox_app(SandboxTransport(build_tenant(), enforce_zone_host=False))
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


class TcpProxy:
    """127.0.0.1:port -> target, which the test can cut and restore: a database "outage"."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in list(self._pipes):
            writer.transport.abort()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._pipes |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._pipes -= {writer, up_writer}


@pytest.mark.postgres
async def test_not_ready_while_the_database_is_unreachable_and_ready_when_it_is_back(
    postgres_url: str, tmp_path: Path
) -> None:
    url = httpx.URL(postgres_url.replace("postgresql+psycopg://", "postgresql://", 1))
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    await proxy.start()
    through_proxy = postgres_url.replace(f":{url.port or 5432}/", f":{proxy.port}/", 1)
    async with bot_process(tmp_path, {"DATABASE_URL": through_proxy}) as bot:
        assert await bot.get("/readyz") == (200, {"status": "ready"})

        await proxy.cut()
        status, body = await bot.get("/readyz")
        assert status == 503 and body["database"]
        assert await bot.get("/healthz") == (200, {"status": "ok"})

        await proxy.start()
        assert await _ready_again(bot) == (200, {"status": "ready"})
        assert await bot.stop() == 0
    await proxy.cut()
