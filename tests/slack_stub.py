"""A local Slack Web API: records every call, validates views and messages, answers like Slack.

Listeners run on after their ack, so tests wait for the calls they expect with ``wait_for``
(a condition variable, not sleep-polling).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

SIGNING_SECRET = "test-signing-secret"
STUBS: list[SlackStub] = []


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    at: float
    wall: datetime = field(default_factory=lambda: datetime.now(UTC))  # time-machine moves this one
    reply: dict[str, Any] = field(default_factory=dict)  # what the stub answered (a view's id...)


@dataclass
class SlackStub:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_in_channel: set[str] = field(default_factory=set)
    groups: dict[str, list[str]] = field(default_factory=dict)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_replies: list[dict[str, Any]] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    url: str = ""
    latency: float = 0.0  # seconds before each answer; the real Web API takes ~50-300 ms
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _views: int = 0

    def __post_init__(self) -> None:
        STUBS.append(self)  # the Slack suite's checks read every stub a test started

    def named(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.named(method)) >= count)

        await asyncio.wait_for(enough(), timeout)
        return self.named(method)

    async def wait_until(self, method: str, predicate: Any, timeout: float = 20.0) -> ApiCall:
        """The first call of ``method`` whose args satisfy ``predicate``."""

        def found() -> ApiCall | None:
            return next((c for c in self.named(method) if predicate(c.args)), None)

        async def arrived() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: found() is not None)

        await asyncio.wait_for(arrived(), timeout)
        call = found()
        assert call is not None
        return call

    async def wait_matching(
        self, method: str, predicate: Any, count: int = 1, timeout: float = 20.0
    ) -> list[ApiCall]:
        """The calls of ``method`` whose args satisfy ``predicate``, once there are ``count``."""

        def found() -> list[ApiCall]:
            return [c for c in self.named(method) if predicate(c.args)]

        async def arrived() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(found()) >= count)

        await asyncio.wait_for(arrived(), timeout)
        return found()

    def last_view(self) -> dict[str, Any]:
        for call in reversed(self.calls):
            if "view" in call.args:
                return dict(call.args["view"])
        raise AssertionError("no view was sent")

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        args: dict[str, Any] = dict(request.query)
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update({k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()})
        for key in ("view", "blocks"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        if self.latency:
            await asyncio.sleep(self.latency)
        self._validate(method, args)
        reply = self._reply(method, args)
        self.calls.append(ApiCall(method, args, time.monotonic(), reply=reply))
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(
            reply,
            headers={"x-oauth-scopes": "commands,chat:write,im:write,users:read,users:read.email"},
        )

    def _validate(self, method: str, args: dict[str, Any]) -> None:
        try:
            if "view" in args:
                view = View(**args["view"])
                view.to_dict()
                if len(view.blocks) > 100:
                    raise ValueError("more than 100 blocks in a view")
            if "blocks" in args:
                blocks = Block.parse_all(args["blocks"])
                for block in blocks:
                    assert block is not None
                    block.to_dict()
                if len(blocks) > 50:
                    raise ValueError("more than 50 blocks in a message")
        except Exception as exc:
            self.invalid.append(f"{method}: {type(exc).__name__}: {exc}")

    def _reply(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "team_id": "T1", "bot_id": "B1", "team": "MSP"}
        if method == "apps.connections.open":
            return {
                "ok": True,
                "url": self.url.replace("http://", "ws://").replace("/api/", "/link"),
            }
        if method == "users.lookupByEmail":
            wanted = str(args.get("email", "")).casefold()
            found = next(
                (u for u in self.users.values() if u["profile"]["email"].casefold() == wanted), None
            )
            return (
                {"ok": True, "user": found} if found else {"ok": False, "error": "users_not_found"}
            )
        if method == "usergroups.users.list":
            members = self.groups.get(str(args.get("usergroup")))
            return (
                {"ok": True, "users": members}
                if members is not None
                else {"ok": False, "error": "no_such_subteam"}
            )
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method in ("views.open", "views.push"):
            self._views += 1
            return {
                "ok": True,
                "view": {**args["view"], "id": f"V{self._views}", "hash": f"h{self._views}"},
            }
        if method in ("views.update", "views.publish"):
            return {
                "ok": True,
                "view": {**args["view"], "id": args.get("view_id", "VHOME"), "hash": "h"},
            }
        if method == "chat.postMessage":
            if args.get("channel") in self.not_in_channel:
                return {"ok": False, "error": "not_in_channel"}
            return {"ok": True, "channel": args["channel"], "ts": f"{time.time():.6f}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users"))}}
        return {"ok": True}


async def socket(stub: SlackStub, request: web.Request) -> web.WebSocketResponse:
    """Socket Mode: Slack pushes envelopes over a WebSocket and the app acks each one."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    stub.sockets.append(ws)
    async with stub._changed:
        stub._changed.notify_all()
    await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
    async for message in ws:
        if message.type == web.WSMsgType.TEXT:
            stub.socket_replies.append(json.loads(message.data))
            async with stub._changed:
                stub._changed.notify_all()
    return ws


@asynccontextmanager
async def running_stub(stub: SlackStub) -> AsyncIterator[SlackStub]:
    app = web.Application()
    app.router.add_route("*", "/api/{method}", stub.handle)

    async def link(request: web.Request) -> web.WebSocketResponse:
        return await socket(stub, request)

    app.router.add_get("/link", link)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    stub.url = f"http://127.0.0.1:{server.port}/api/"
    try:
        yield stub
    finally:
        await server.close()


def user(
    user_id: str, email: str, locale: str = "en-US", tz: str = "America/Chicago"
) -> dict[str, Any]:
    return {"id": user_id, "locale": locale, "tz": tz, "profile": {"email": email}}


def signed(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(
    text: str, *, user_id: str = "U1", channel_id: str = "C1", response_url: str = "",
    trigger_id: str = "trigger-1",
) -> str:  # fmt: skip
    return urllib.parse.urlencode(
        {
            "command": "/onboard",
            "text": text,
            "user_id": user_id,
            "channel_id": channel_id,
            "team_id": "T1",
            "trigger_id": trigger_id,
            "response_url": response_url,
            "user_name": "someone",
        }
    )


def payload_body(payload: dict[str, Any]) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def select(value: Any) -> dict[str, Any]:
    return {
        "type": "external_select",
        "selected_option": {"value": str(value), "text": {"type": "plain_text", "text": "x"}},
    }


def static(value: Any) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"value": str(value), "text": {"type": "plain_text", "text": "x"}},
    }


def multi(values: list[Any], kind: str = "multi_external_select") -> dict[str, Any]:
    return {
        "type": kind,
        "selected_options": [
            {"value": str(v), "text": {"type": "plain_text", "text": "x"}} for v in values
        ],
    }


def radio(value: str) -> dict[str, Any]:
    return {
        "type": "radio_buttons",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": "x"}},
    }


def text_input(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def date_input(value: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def number(value: int) -> dict[str, Any]:
    return {"type": "number_input", "value": str(value)}


def checkbox(on: bool) -> dict[str, Any]:
    return {
        "type": "checkboxes",
        "selected_options": [{"value": "yes", "text": {"type": "plain_text", "text": "x"}}]
        if on
        else [],
    }


def state(**blocks: dict[str, Any]) -> dict[str, Any]:
    """View state values: one element per block, action id = block id (as our views build them)."""
    return {
        "values": {
            block_id.replace("__", "."): {block_id.replace("__", "."): element}
            for block_id, element in blocks.items()
        }
    }


def suggestion_body(
    action_id: str, query: str, private_metadata: str, *, user_id: str = "U1"
) -> str:
    """A signed-ready ``block_suggestion`` (typeahead) request for an external select."""
    return payload_body(
        {
            "type": "block_suggestion",
            "action_id": action_id,
            "block_id": action_id,
            "value": query,
            "team": {"id": "T1"},
            "user": {"id": user_id},
            "view": {
                "id": "V1",
                "private_metadata": private_metadata,
                "callback_id": "onboard_page",
            },
        }
    )


def message_click(
    action_id: str, value: str, *, user_id: str = "U1", channel_id: str = "C1"
) -> dict[str, Any]:
    """A click on a button of a message (not a modal)."""
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user_id},
        "trigger_id": "trigger-3",
        "channel": {"id": channel_id},
        "container": {"type": "message", "channel_id": channel_id},
        "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": "button"}],
    }


def button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    return next(
        str(e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


_SHOWN: dict[str, tuple[str, Any]] = {
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "datepicker": ("selected_date", "initial_date"),
    "plain_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
}


def shown_state(view: dict[str, Any]) -> dict[str, Any]:
    """The state Slack submits for a modal nobody touched: each input's initial value, as Slack
    sends every input block of the view with its current value."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        key, initial = _SHOWN[element["type"]]
        empty: Any = [] if key == "selected_options" else None
        current = element.get(initial, empty)
        values[block["block_id"]] = {element["action_id"]: {"type": element["type"], key: current}}
    return {"values": values}
