"""Bots whose PUBLIC_URL is their own real aiohttp server, so the sandbox's callouts reach them.

One or more replicas share the Slack stub, the Autotask sandbox and the database, like replicas
of one installation behind a load balancer. Each listens on a socket bound before its settings
are made, so PUBLIC_URL names a port that is already ours (no free-port race).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.container import Container, build
from bot.server import create_app
from bot.settings import Settings
from services.autotask.models import CompanyToDo
from services.autotask.sandbox import SandboxTransport, build_tenant
from services.reminders.service import Reminders
from services.reminders.webhooks import CompanyWebhookRegistry
from services.store.migrate import upgrade
from tests.onboarding_support import managed_answers, resource_id, submitted
from tests.slack_harness import USERS, _settle
from tests.slack_stub import SIGNING_SECRET, SlackStub, running_stub

SECRET = "test-webhook-secret-0123456789abcdef"
CALLBACK = "/autotask/webhooks/companies"


@dataclass
class Replica:
    container: Container
    url: str

    @property
    def webhooks(self) -> CompanyWebhookRegistry:
        assert self.container.webhooks is not None
        return self.container.webhooks

    @property
    def reminders(self) -> Reminders:
        assert self.container.reminders is not None
        return self.container.reminders

    async def idle(self) -> None:
        """Until the work every callout received so far started is done."""
        assert self.container.callbacks is not None
        await asyncio.wait_for(self.container.callbacks.idle(), 20)


@dataclass
class Bots:
    stub: SlackStub
    sandbox: SandboxTransport
    replicas: list[Replica]
    http: aiohttp.ClientSession
    public_url: str

    @property
    def first(self) -> Replica:
        return self.replicas[0]

    async def delivered(self) -> None:
        """Every callout the sandbox queued has been posted, and every replica has acted on it."""
        await asyncio.wait_for(self.sandbox.webhooks.drain(), 20)
        for replica in self.replicas:
            await replica.idle()

    async def post(self, path: str, body: bytes, headers: dict[str, str] | None = None,
                   replica: int = 0) -> tuple[int, Any]:  # fmt: skip
        url = self.replicas[replica].url + path
        async with self.http.post(url, data=body, headers=headers or {}) as response:
            return response.status, await response.json()


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


async def _serve(stack: AsyncExitStack, app: web.Application, sock: socket.socket) -> None:
    runner = web.AppRunner(app)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.SockSite(runner, sock).start()


def _fan_out(targets: list[str]) -> web.Application:
    """A load balancer gone wrong: every request goes to every replica at once."""

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower().startswith(("x-", "content-type"))
        }
        async with aiohttp.ClientSession() as http:

            async def one(base: str) -> int:
                async with http.post(base + request.path, data=body, headers=headers) as reply:
                    return reply.status

            statuses = await asyncio.gather(*(one(t) for t in targets))
        return web.Response(status=statuses[0])

    app = web.Application()
    app.router.add_post("/{tail:.*}", forward)
    return app


@asynccontextmanager
async def webhook_bots(
    tmp_path: Path, *, replicas: int = 1, database_url: str | None = None, fan_out: bool = False,
    **overrides: Any,
) -> AsyncIterator[Bots]:  # fmt: skip
    """Replicas of one installation; with ``fan_out``, PUBLIC_URL is a proxy feeding them all."""
    stub = SlackStub(users=dict(USERS))
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'webhooks.db'}"
    await upgrade(url)
    sandbox = SandboxTransport(build_tenant())
    sandbox.webhooks.retry_delay = 0.05  # Autotask waits 30 s between attempts
    async with running_stub(stub), AsyncExitStack() as stack:
        socks = [_bound_socket() for _ in range(replicas)]
        bases = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in socks]
        proxy = _bound_socket() if fan_out else None
        public_url = f"http://127.0.0.1:{proxy.getsockname()[1]}" if proxy else bases[0]
        settings = Settings(
            _env_file=None, slack_bot_token="xoxb-test-token", slack_signing_secret=SIGNING_SECRET,
            slack_api_url=stub.url, database_url=url, sandbox_state_file=None,
            public_url=public_url, autotask_webhook_secret=SECRET, **overrides,
        )  # fmt: skip
        running: list[Replica] = []
        for sock, base in zip(socks, bases, strict=True):
            container = await stack.enter_async_context(build(settings, sandbox=sandbox))
            await _serve(stack, create_app(container), sock)
            running.append(Replica(container, base))
        if proxy is not None:
            await _serve(stack, _fan_out(bases), proxy)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        bots = Bots(stub, sandbox, running, http, public_url)
        try:
            yield bots
        finally:
            await asyncio.wait_for(sandbox.webhooks.drain(), 20)
            for replica in running:
                await replica.idle()
            await _settle()


async def applied_onboarding(replica: Replica, admins: list[str]) -> str:
    """Acme Dental onboarded with its tax ID and Attention left for the billing administrators."""
    tenant = replica.container.sandbox
    assert tenant is not None
    answers = managed_answers(tenant.tenant) | {
        "tax_id": None, "attention_contact": None,
        "billing_admins": [resource_id(tenant.tenant, *name.split()) for name in admins],
    }  # fmt: skip
    runner = replica.container.runner
    onboarding_id, preview = await submitted(runner, answers, platform="slack", requested_by="U1")
    assert onboarding_id, preview.issues
    report = await runner.apply(onboarding_id)
    assert report.status == "applied" and report.invoice_missing == ["tax_id", "attention"]
    return onboarding_id


def open_todos(bots: Bots, company: int) -> list[dict[str, Any]]:
    return [
        t for t in bots.sandbox.tenant.table(CompanyToDo.entity).values()
        if t["companyID"] == company and not t.get("completedDate")
    ]  # fmt: skip
