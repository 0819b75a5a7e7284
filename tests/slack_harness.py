"""A running bot with Slack and Autotask faked at their wire: for Slack tests and benchmarks."""

from __future__ import annotations

import asyncio
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
from services.autotask.sandbox import SandboxTransport, build_tenant
from services.store.migrate import upgrade
from tests.slack_stub import (
    SIGNING_SECRET,
    SlackStub,
    command_body,
    payload_body,
    running_stub,
    signed,
    user,
)
from tests.support import Reply as Reply


@dataclass
class Harness:
    stub: SlackStub
    sandbox: SandboxTransport
    container: Container
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: str, headers: dict[str, str] | None = None) -> Reply:
        started = time.monotonic()
        async with self.http.post(self.url, data=body, headers=headers or signed(body)) as response:
            text = await response.text()
            seconds = time.monotonic() - started
        return Reply.of(response.status, text, seconds)

    async def command(
        self, text: str = "", *, user_id: str = "U1", channel_id: str = "C1"
    ) -> Reply:
        return await self.post(
            command_body(
                text, user_id=user_id, channel_id=channel_id, response_url=self.stub.url + "respond"
            )
        )

    async def settle(self) -> None:
        """Wait for the work listeners do after their ack."""
        await _settle()

    async def payload(self, payload: dict[str, Any]) -> Reply:
        return await self.post(payload_body(payload))

    def view_submission(
        self, view: dict[str, Any], values: dict[str, Any], *, user_id: str = "U1"
    ) -> dict[str, Any]:
        return {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": user_id},
            "view": {
                "id": view.get("id", "V1"),
                "hash": "h",
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "state": values,
                "type": "modal",
            },
        }

    def block_action(
        self,
        view: dict[str, Any],
        action_id: str,
        value: str = "",
        *,
        values: dict[str, Any] | None = None,
        user_id: str = "U1",
        element: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A click or a change in a modal; ``element`` is the changed input's value (a select's
        ``selected_options``...), otherwise the action is a button with ``value``."""
        action = {"action_id": action_id, "block_id": action_id}
        action |= element if element is not None else {"value": value, "type": "button"}
        return {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user_id},
            "trigger_id": "trigger-2",
            "actions": [action],
            "view": {
                "id": view.get("id", "V1"),
                "hash": "h",
                "callback_id": view.get("callback_id", ""),
                "private_metadata": view.get("private_metadata", ""),
                "state": values or {"values": {}},
                "type": "modal",
            },
        }


async def next_view(slack: Harness, reply: Reply) -> dict[str, Any]:
    """The view a submission leads to: in the ack, or by views.update after a loading view."""
    assert reply.status == 200, reply.body
    assert reply.seconds < 3, f"Slack would have timed out: {reply.seconds:.2f} s"
    body = reply.body or {}
    if body.get("response_action") == "update" and body["view"]["callback_id"] != "onboard_loading":
        return {**body["view"], "id": "V1"}
    before = len(slack.stub.named("views.update"))
    calls = await slack.stub.wait_for("views.update", before + 1)
    return {**calls[-1].args["view"], "id": "V1"}


async def open_form(
    slack: Harness, text: str = "Acme Dental", user_id: str = "U1", channel_id: str = "C1"
) -> dict[str, Any]:
    """The first page of the modal this command opens (not one an earlier command left behind:
    Bolt answers at ``ack()`` and the listener fills the modal afterwards)."""
    opened, updated = len(slack.stub.named("views.open")), len(slack.stub.named("views.update"))
    reply = await slack.command(text, user_id=user_id, channel_id=channel_id)
    assert reply.status == 200 and reply.seconds < 3
    await slack.stub.wait_for("views.open", opened + 1)
    calls = await slack.stub.wait_for("views.update", updated + 1)
    return {**calls[-1].args["view"], "id": "V1"}


async def submit(
    slack: Harness, view: dict[str, Any], values: dict[str, Any], user_id: str = "U1"
) -> dict[str, Any]:
    return await next_view(
        slack, await slack.payload(slack.view_submission(view, values, user_id=user_id))
    )


USERS = {
    "U1": user("U1", "marta.ruiz@brightline-it.example", "en-US"),
    "U2": user("U2", "dan.okafor@brightline-it.example", "es-ES", "Europe/Madrid"),
    "U3": user("U3", "visitor@elsewhere.example", "en-US"),
    "UB": user("UB", "beatriz.lima@brightline-it.example", "en-US", "America/New_York"),
    "UT": user("UT", "tom.keller@brightline-it.example", "es-ES", "Europe/Madrid"),
    "US": user("US", "sofia.mendez@brightline-it.example", "en-US", "Asia/Kolkata"),
    "UC": user("UC", "claire.dubois@brightline-it.example", "en-US", "America/Chicago"),
    "UR": user("UR", "raj.iyer@brightline-it.example", "en-US", "America/Chicago"),
}


@asynccontextmanager
async def running_bot(
    tmp_path: Path, database_url: str | None = None, **overrides: Any
) -> AsyncIterator[Harness]:
    stub = SlackStub(users=dict(USERS))
    async with running_stub(stub):
        settings = Settings(
            _env_file=None,
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=stub.url,
            database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'slack.db'}",
            sandbox_state_file=None,
            **overrides,
        )
        await upgrade(settings.database_url)
        sandbox = SandboxTransport(build_tenant())
        async with build(settings, sandbox=sandbox) as container:
            server = TestServer(create_app(container), host="127.0.0.1")
            await server.start_server()
            async with aiohttp.ClientSession() as http:
                try:
                    yield Harness(
                        stub,
                        sandbox,
                        container,
                        f"http://127.0.0.1:{server.port}/slack/events",
                        http,
                    )
                finally:
                    await _settle()  # listeners run on after their ack; let them finish first
                    await server.close()


async def _settle(timeout: float = 10.0) -> None:
    """Wait for the tasks Bolt started after acking (DB writes, Slack calls) before shutting down,
    so no connection is torn down under a listener that is still using it."""
    here = asyncio.current_task()
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        busy = [
            t for t in asyncio.all_tasks() if t is not here and not t.done() and _is_listener(t)
        ]
        if not busy or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.wait(busy, timeout=0.1)


def _is_listener(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "slack_bolt" in code.co_filename
