"""Text from Autotask shows as written wherever Slack shows it: in every message's ``text`` and
blocks, the modals, the status lines and App Home. A company named with Slack's own syntax pings
no one, links nothing and formats nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from handlers.slack.mrkdwn import literal
from services.autotask.sandbox import Fault
from tests.handlers.slack.test_flow import break_fix_review
from tests.onboarding_support import company_id, contacts_of
from tests.slack_harness import Harness, open_form, submit
from tests.slack_stub import (
    button_value,
    checkbox,
    message_click,
    multi,
    radio,
    select,
    signed,
    state,
    static,
)

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


async def test_the_whole_flow_with_autotask_text_in_slack_syntax_pings_no_one(
    slack: Harness,
) -> None:
    """The company named with Slack's syntax through every page, the review, the channel's progress
    message (text and blocks), a failure whose Autotask text says ``<!here>``, Retry, the password
    DM, the reminder DM, status, list and App Home: nothing pings, links or formats."""
    tenant = slack.sandbox.tenant
    delta = company_id(tenant, "Delta Print Works")
    tenant.table("Companies")[delta]["companyName"] = EVIL
    await slack.container.options.companies()
    views = [await open_form(slack, EVIL)]
    views.append(await submit(slack, views[-1], state(company=select(delta),
                                                      client_type=radio("break_fix"),
                                                      convert_to_customer=checkbox(True))))  # fmt: skip
    contact = next(c for c in contacts_of(tenant, delta) if c.get("emailAddress"))["id"]
    views.append(await submit(slack, views[-1], state(portal_contacts=multi([contact]),
                                                      portal_security_level=static(1))))  # fmt: skip
    for _ in range(3):
        views.append(await submit(slack, views[-1], {"values": {}}))
    view = views[-1]
    assert view["callback_id"] == "onboard_review"
    assert any("Evergreen" in text for text in _mrkdwn(view))  # the review, answered in the ack
    slack.sandbox.fail_next(Fault(status=500, errors=["<!here> Portal *module* not licensed <@U9>"],
                                  method="POST", path="ClientPortalUsers"))  # fmt: skip
    await slack.payload(slack.view_submission(view, {"values": {}}))
    failed = await slack.stub.wait_until("chat.update", lambda a: "run_retry" in str(a["blocks"]))
    for shown in (failed.args["text"], str(failed.args["blocks"])):
        assert "&lt;!here&gt; Portal" in shown and "&lt;@U9&gt;" in shown
    await slack.payload(
        message_click("run_retry", button_value(failed.args["blocks"], "run_retry"))
    )
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    await slack.stub.wait_until("chat.postMessage", lambda a: "Client Portal password" in str(a))
    await slack.settle()
    for text in ("status", "list"):
        await slack.command(text)
    await slack.stub.wait_for("respond", 2)
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev4", "event_time": 1,
                       "event": {"type": "app_home_opened", "user": "U1", "tab": "home"}})  # fmt: skip
    await slack.post(body, {**signed(body), "Content-Type": "application/json"})
    await slack.stub.wait_for("views.publish")
    await slack.settle()

    calls = [(c.method, c.args.get("channel"), list(_mrkdwn(c.args))) for c in slack.stub.calls]
    calls += [("modal", None, list(_mrkdwn(v))) for v in views]
    named = {(m, str(ch)[:1]) for m, ch, texts in calls if any("Evergreen" in t for t in texts)}
    # the channel's message and its updates, a DM (the reminder), status and list, App Home
    assert {("chat.postMessage", "C"), ("chat.update", "C"), ("chat.postMessage", "D"),
            ("respond", "N"), ("views.publish", "N")} <= named, named  # fmt: skip
    reminder = [c for c in slack.stub.named("chat.postMessage")
                if str(c.args.get("channel")).startswith("D") and c.args.get("blocks")]  # fmt: skip
    assert reminder and "Evergreen" in reminder[0].args["text"]
    for _, _, texts in calls:
        for text in texts:
            for live in (*LIVE, "<!here>", "<@U9>", "*module*"):
                assert live not in text, (live, text)
