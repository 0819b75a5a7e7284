"""People driving Slack against several real replicas at once, for tests and the load benchmark.

Each person has their own Slack user, channel and trigger ids, so their modal (the view id the
stub gave ``views.open``), their progress message (their channel) and their typeahead answers are
told apart while many run in parallel. Each request goes to the next replica in turn, as a load
balancer would send it; every ack is timed by kind (command, typeahead, page, apply).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.slack_stub import (
    SlackStub,
    checkbox,
    command_body,
    payload_body,
    radio,
    select,
    signed,
    state,
    suggestion_body,
    user,
)

BREAK_FIX_PAGES = 3  # people, organization, invoice: left as shown; then the contract page


@dataclass
class Ack:
    status: int
    body: Any
    seconds: float


@dataclass
class Acks:
    """Every ack's time by request kind."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    failed: dict[str, list[Ack]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, ack: Ack) -> None:
        self.seconds[kind].append(ack.seconds)
        if ack.status != 200:
            self.failed[kind].append(ack)


@dataclass
class Slack:
    """Signed requests into the replicas' ``/slack/events``, in turn."""

    stub: SlackStub
    urls: list[str]
    http: aiohttp.ClientSession
    acks: Acks = field(default_factory=Acks)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def next_url(self) -> str:
        return self.urls[next(self._turn) % len(self.urls)]

    async def post(
        self, kind: str, body: str, *, url: str | None = None, retry: int | None = None
    ) -> Ack:
        headers = signed(body)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        started = time.monotonic()
        async with self.http.post(url or self.next_url(), data=body, headers=headers) as response:
            text = await response.text()
            ack = Ack(response.status, _json(text), time.monotonic() - started)
        self.acks.add(kind, ack)
        return ack


def _json(text: str) -> Any:
    import json

    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


@dataclass
class Person:
    slack: Slack
    user_id: str
    channel: str
    view_id: str = ""
    metadata: str = ""

    @property
    def stub(self) -> SlackStub:
        return self.slack.stub

    def _updates(self) -> int:
        return len(
            [c for c in self.stub.named("views.update") if c.args.get("view_id") == self.view_id]
        )

    async def _next_view(self, ack: Ack, before: int) -> dict[str, Any]:
        assert ack.status == 200, ack.body
        body = ack.body if isinstance(ack.body, dict) else {}
        if (
            body.get("response_action") == "update"
            and body["view"]["callback_id"] != "onboard_loading"
        ):
            return self._mine(body["view"])
        calls = await self.stub.wait_matching(
            "views.update", lambda a: a.get("view_id") == self.view_id, before + 1, timeout=30
        )
        return self._mine(calls[-1].args["view"])

    def _mine(self, view: dict[str, Any]) -> dict[str, Any]:
        self.metadata = view.get("private_metadata", self.metadata)
        return {**view, "id": self.view_id}

    async def open(self, company: str) -> dict[str, Any]:
        trigger = f"trigger-{uuid.uuid4().hex}"
        body = command_body(company, user_id=self.user_id, channel_id=self.channel,
                            response_url=self.stub.url + "respond", trigger_id=trigger)  # fmt: skip
        ack = await self.slack.post("command", body)
        assert ack.status == 200, ack.body
        [opened] = await self.stub.wait_matching(
            "views.open", lambda a: a.get("trigger_id") == trigger, timeout=30
        )
        self.view_id = opened.reply["view"]["id"]
        return await self._next_view(Ack(200, None, 0), 0)

    async def typeahead(self, action_id: str, query: str) -> Ack:
        body = suggestion_body(action_id, query, self.metadata, user_id=self.user_id)
        return await self.slack.post("typeahead", body)

    def submission(self, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "view_submission", "team": {"id": "T1"}, "user": {"id": self.user_id},
            "trigger_id": f"trigger-{uuid.uuid4().hex}",
            "view": {"id": self.view_id, "hash": "h", "callback_id": view["callback_id"],
                     "private_metadata": view.get("private_metadata", ""), "state": values,
                     "type": "modal"},
        }  # fmt: skip

    async def submit(self, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        before = self._updates()
        ack = await self.slack.post("page", payload_body(self.submission(view, values)))
        assert ack.status == 200 and ack.seconds < 3, ack
        errors = ack.body.get("errors") if isinstance(ack.body, dict) else None
        assert not errors, errors
        return await self._next_view(ack, before)

    async def to_review(self, company_id: int, company: str) -> dict[str, Any]:
        """``/onboard <company>`` as a break/fix client, typeahead on the way, up to the review."""
        view = await self.open(company)
        ack = await self.typeahead("company", company[:4])
        assert ack.status == 200 and company in str(ack.body), ack.body
        view = await self.submit(view, state(company=select(company_id),
                                             client_type=radio("break_fix"),
                                             convert_to_customer=checkbox(True)))  # fmt: skip
        for _ in range(BREAK_FIX_PAGES + 1):
            view = await self.submit(view, {"values": {}})
        assert view["callback_id"] == "onboard_review", view
        return view

    async def apply(self, review: dict[str, Any]) -> list[Ack]:
        """Apply on one replica while a double click and Slack's retry of the first delivery land
        on the next one."""
        first = self.slack.next_url()
        other = self.slack.next_url()
        body = payload_body(self.submission(review, {"values": {}}))
        double = payload_body(self.submission(review, {"values": {}}))  # another trigger id
        return list(await asyncio.gather(
            self.slack.post("apply", body, url=first),
            self.slack.post("apply", double, url=other),
            self.slack.post("apply", body, url=other, retry=1),
        ))  # fmt: skip


def people(stub: SlackStub, emails: list[str], slack: Slack) -> list[Person]:
    """One Slack user per e-mail (``UP<n>``, channel ``CP<n>``), registered in the stub."""
    found = []
    for n, email in enumerate(emails):
        stub.users[f"UP{n}"] = user(f"UP{n}", email)
        found.append(Person(slack, f"UP{n}", f"CP{n}"))
    return found
