"""How often the Slack flow reads the company from Autotask: the Apply that follows its Review
within a minute uses the plan the Review showed, so the company's state is read once for both."""

from __future__ import annotations

from tests.onboarding_support import company_id
from tests.slack_harness import Harness, open_form, submit
from tests.slack_stub import checkbox, radio, select, state


async def test_review_then_apply_within_a_minute_reads_the_company_once(slack: Harness) -> None:
    tenant = slack.sandbox.tenant
    delta = company_id(tenant, "Delta Print Works")
    view = await open_form(slack, "Delta Print Works")
    view = await submit(slack, view, state(company=select(delta), client_type=radio("break_fix"),
                                           convert_to_customer=checkbox(True)))  # fmt: skip
    for _ in range(3):  # people, organization, invoice settings
        view = await submit(slack, view, {"values": {}})
    slack.sandbox.reset_log()
    review = await submit(slack, view, {"values": {}})  # the last page: its Review
    assert review["callback_id"] == "onboard_review", review
    await slack.payload(slack.view_submission(review, {"values": {}}))  # Apply, at once
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    await slack.settle()
    reads = [c for c in slack.sandbox.calls if c.method == "GET" and c.path == f"Companies/{delta}"]
    assert len(reads) == 1, [f"{c.method} {c.path}" for c in slack.sandbox.calls]
