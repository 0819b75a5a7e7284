"""Text from Autotask shows as written wherever Slack shows it: in every message's ``text`` and
blocks, the modals, the status lines and App Home. A company named with Slack's own syntax pings
no one, links nothing and formats nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from handlers.slack.mrkdwn import literal
from tests.handlers.slack.test_flow import break_fix_review
from tests.onboarding_support import company_id
from tests.slack_harness import Harness
from tests.slack_stub import signed

EVIL = "<!channel> Evergreen *Bold* <@U123> _x_ ~y~ `z` :smile:"
LIVE = ("<!channel>", "<@U123>", "*Bold*", "_x_", "~y~", "`z`", ":smile:")


def _mrkdwn(node: Any) -> Iterator[str]:
    """Every string Slack parses as mrkdwn: mrkdwn text objects, and a message's ``text``."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield str(node["text"])
        for key, value in node.items():
            if key == "text" and isinstance(value, str) and node.get("type") is None:
                yield value  # a message's or a response's top-level text
            else:
                yield from _mrkdwn(value)
    elif isinstance(node, list):
        for item in node:
            yield from _mrkdwn(item)


def test_literal_keeps_every_control_and_formatting_character_from_slack() -> None:
    shown = literal(EVIL)
    for live in LIVE:
        assert live not in shown, live
    assert "&lt;!channel&gt;" in shown and "&lt;@U123&gt;" in shown
    assert literal("> quoted").startswith("\u00ad&gt;")  # not a block quote either
    assert literal("Acme Dental & Co") == "Acme Dental &amp; Co"  # plain names stay plain


async def test_a_company_named_with_slack_syntax_pings_and_formats_nothing_anywhere(
    slack: Harness,
) -> None:
    tenant = slack.sandbox.tenant
    tenant.table("Companies")[company_id(tenant, "Delta Print Works")]["companyName"] = EVIL
    await slack.container.options.companies()
    view = await break_fix_review(slack, EVIL)
    await slack.payload(slack.view_submission(view, {"values": {}}))
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    await slack.command("status")
    await slack.stub.wait_for("respond")
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev3", "event_time": 1,
                       "event": {"type": "app_home_opened", "user": "U1", "tab": "home"}})  # fmt: skip
    await slack.post(body, {**signed(body), "Content-Type": "application/json"})
    await slack.stub.wait_for("views.publish")
    await slack.settle()

    shown = [*_mrkdwn(view), *(text for call in slack.stub.calls for text in _mrkdwn(call.args))]
    named = [text for text in shown if "Evergreen" in text]
    methods = {c.method for c in slack.stub.calls if any("Evergreen" in t for t in _mrkdwn(c.args))}
    assert {"chat.postMessage", "chat.update", "respond", "views.publish"} <= methods
    assert any("Evergreen" in text for text in _mrkdwn(view))  # the review, answered in the ack
    for text in named:
        for live in LIVE:
            assert live not in text, (live, text)
