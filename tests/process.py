"""Real ``onboard-bot run`` processes for tests: any port, any settings, their log, a signal.

A replica is started as an operator would start it, from environment variables only (``PORT=0``
lets the OS choose; the process prints the port it got), and the Autotask sandbox can be served
over HTTP from the test process so several replicas share one tenant.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.sandbox_server import create_sandbox_app
from services.autotask.sandbox import (
    SANDBOX_INTEGRATION_CODE,
    SANDBOX_SECRET,
    SANDBOX_USERNAME,
    SandboxTransport,
)

_LISTENING = re.compile(r"HTTP: listening on (http://[\d.]+:(\d+))")


@dataclass
class BotProcess:
    proc: asyncio.subprocess.Process
    url: str
    output: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ended: bool = False

    async def wait_for_output(self, text: str, within: float = 30.0) -> str:
        """The first line of output containing ``text``, waiting for it if need be."""

        def found() -> str | None:
            return next((line for line in self.output if text in line), None)

        async def arrived() -> str:
            async with self._changed:
                await self._changed.wait_for(lambda: found() is not None or self._ended)
            line = found()
            if line is None:
                raise AssertionError(f"{text!r} never printed:\n" + "\n".join(self.output))
            return line

        return await asyncio.wait_for(arrived(), within)

    def json_lines(self) -> list[dict[str, Any]]:
        """The log lines (``LOG_FORMAT=json``), in order; start-up banners are skipped."""
        return [json.loads(line) for line in self.output if line.startswith("{")]

    async def get(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(self.url + path) as response:
            return response.status, await response.json(content_type=None)

    async def post(self, path: str, body: str, headers: dict[str, str]) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url + path, data=body, headers=headers) as response,
        ):
            return response.status

    async def stop(self, sig: int = signal.SIGTERM, within: float = 60.0) -> int:
        """Send ``sig`` and return the exit code once the process has ended."""
        self.proc.send_signal(sig)
        return await self.exited(within)

    async def exited(self, within: float = 60.0) -> int:
        code = await asyncio.wait_for(self.proc.wait(), within)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)
        return code


@asynccontextmanager
async def bot_process(cwd: Path, env: dict[str, str]) -> AsyncIterator[BotProcess]:
    """``python -m bot run`` with ``env`` on top of the (test-cleaned) environment."""
    import os

    full = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", **env}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=cwd, env=full, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    output: list[str] = []
    url = await asyncio.wait_for(_until_listening(proc.stdout, output), 60)
    bot = BotProcess(proc, url, output)
    bot._reader = asyncio.ensure_future(_collect(proc.stdout, bot))
    try:
        yield bot
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await asyncio.wait_for(bot._reader, 10)


async def _until_listening(stream: asyncio.StreamReader, output: list[str]) -> str:
    while line := (await stream.readline()).decode():
        output.append(line.rstrip("\n"))
        if found := _LISTENING.search(line):
            return found.group(1)
    raise AssertionError("onboard-bot run ended before listening:\n" + "\n".join(output))


async def _collect(stream: asyncio.StreamReader, bot: BotProcess) -> None:
    while line := (await stream.readline()).decode():
        async with bot._changed:
            bot.output.append(line.rstrip("\n"))
            bot._changed.notify_all()
    async with bot._changed:
        bot._ended = True  # waiters stop waiting for lines that will never come
        bot._changed.notify_all()


@asynccontextmanager
async def served_sandbox(transport: SandboxTransport) -> AsyncIterator[dict[str, str]]:
    """The sandbox over HTTP; yields the settings that point a replica at it."""
    server = TestServer(create_sandbox_app(transport), host="127.0.0.1")
    await server.start_server()
    assert server.port is not None
    try:
        yield autotask_env(server.port)
    finally:
        await server.close()


def autotask_env(port: int) -> dict[str, str]:
    """Settings for a replica whose Autotask is the sandbox served on ``port``."""
    return {
        "AUTOTASK_BASE_URL": f"http://127.0.0.1:{port}/ATServicesRest/",
        "AUTOTASK_USERNAME": SANDBOX_USERNAME,
        "AUTOTASK_SECRET": SANDBOX_SECRET,
        "AUTOTASK_INTEGRATION_CODE": SANDBOX_INTEGRATION_CODE,
    }


async def onboard_cli(cwd: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """``python -m bot onboard ARGS`` (e.g. ``--answers FILE --apply``): an Apply in a process of
    its own, which a test may kill. Its output is in ``proc.stdout``."""
    import os

    full = {**os.environ, **env}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "onboard", *args, cwd=cwd, env=full,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
