"""A run's progress message is found again wherever the run goes on: after a retry of an
onboarding stored by the previous version, and after a terminal resume of a Slack onboarding."""

from __future__ import annotations

from typing import Any

from handlers.console import console_presenter, resume
from services.autotask.sandbox import Fault
from services.i18n import Translator
from services.store.tables import Onboarding
from tests.handlers.slack.test_flow import break_fix_review, contract
from tests.slack_harness import Harness
from tests.slack_stub import button_value, message_click


async def _failed(slack: Harness) -> tuple[str, Any]:
    view = await break_fix_review(
        slack, with_contract=contract(4, "Delta block", "2027-01-01", "2027-06-30")
    )
    slack.sandbox.fail_next(Fault(status=500, errors=["Contract module is not active."],
                                  method="POST", path="Contracts"))  # fmt: skip
    await slack.payload(slack.view_submission(view, {"values": {}}))
    failed = await slack.stub.wait_until("chat.update", lambda a: "run_retry" in str(a["blocks"]))
    await slack.settle()
    return button_value(failed.args["blocks"], "run_retry"), failed


def _posted_in(slack: Harness, channel: str) -> int:
    return sum(1 for c in slack.stub.named("chat.postMessage") if c.args.get("channel") == channel)


async def test_a_retry_of_an_onboarding_stored_by_the_old_code_updates_its_message(
    slack: Harness,
) -> None:
    onboarding_id, failed = await _failed(slack)
    channel, ts = failed.args["channel"], failed.args["ts"]
    async with slack.container.db.transaction() as session:  # as the previous version stored it
        onboarding = await session.get(Onboarding, onboarding_id)
        assert onboarding is not None
        onboarding.meta = {"channel": "C1", "message_channel": channel, "message_ts": ts}
    posted = _posted_in(slack, "C1")

    await slack.payload(message_click("run_retry", onboarding_id))
    final = await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    assert (final.args["channel"], final.args["ts"]) == (channel, ts)
    assert _posted_in(slack, "C1") == posted  # no second progress message


async def test_a_terminal_resume_of_a_slack_onboarding_updates_its_slack_message(
    slack: Harness,
) -> None:
    onboarding_id, failed = await _failed(slack)
    printed: list[str] = []
    code = await resume(onboarding_id, service=slack.container.onboarding,
                        presenter=console_presenter(), t=Translator("en"), echo=printed.append)  # fmt: skip
    assert code == 0 and "applied" in printed[-1]
    final = await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    assert final.args["ts"] == failed.args["ts"]  # the message in the channel, updated in place


async def test_a_retry_that_cannot_read_autotask_says_why_and_can_be_retried_at_once(
    slack: Harness,
) -> None:
    onboarding_id, failed = await _failed(slack)
    denied = "The logged in Resource does not have the adequate permissions"
    slack.sandbox.fail_next(Fault(status=500, errors=[denied], method="GET", entity="Companies"))
    updates = len(slack.stub.named("chat.update"))
    await slack.payload(message_click("run_retry", onboarding_id))
    told = await slack.stub.wait_until("chat.postEphemeral", lambda a: a.get("user") == "U1")
    assert (
        "Autotask refused the request (Companies" in told.args["text"]
        and denied in told.args["text"]
    )
    [*_, shown] = await slack.stub.wait_for("chat.update", updates + 1)
    assert shown.args["ts"] == failed.args["ts"] and "run_retry" in str(shown.args["blocks"])
    assert "run_cancel" not in str(shown.args["blocks"])  # not left "applying" with Cancel
    await slack.payload(message_click("run_retry", onboarding_id))  # Autotask is back: no wait
    final = await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    assert final.args["ts"] == failed.args["ts"]
