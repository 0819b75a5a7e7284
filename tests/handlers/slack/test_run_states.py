"""What a run's Slack message says while it heals itself: waiting for Autotask (why, and when it
tries again), resumed after an interruption (and the requester told privately), and a stranded
run offered with Resume by `/onboard` and App Home."""

from __future__ import annotations

from typing import Any

from services.autotask.limits import RetryPolicy
from services.autotask.sandbox import Fault
from tests.handlers.slack.test_flow import break_fix_review, contract
from tests.slack_harness import Harness
from tests.slack_stub import button_value, message_click


def _accessory(blocks: list[dict[str, Any]], action_id: str) -> str:
    """The value of the button beside a section (an accessory, not in an actions block)."""
    return next(
        str(b["accessory"]["value"])
        for b in blocks
        if (b.get("accessory") or {}).get("action_id") == action_id
    )


def _said(call: Any) -> str:
    return str(call.args.get("blocks")) + str(call.args.get("text"))


async def _apply(slack: Harness) -> None:
    view = await break_fix_review(
        slack, with_contract=contract(4, "Delta block", "2027-01-01", "2027-06-30")
    )
    await slack.payload(slack.view_submission(view, {"values": {}}))


async def test_a_step_waiting_for_autotask_says_why_and_when_it_tries_again(
    slack: Harness,
) -> None:
    # An answer lost after the contract was refused with no text: the run waits, then goes on.
    slack.container.runner.step_backoff = RetryPolicy(base_delay=1.6, max_delay=1.6)
    slack.sandbox.fail_next(Fault(status=500, errors=[], method="POST", path="Contracts"))
    await _apply(slack)
    waiting = await slack.stub.wait_until(
        "chat.update", lambda a: "waiting for Autotask" in str(a.get("text"))
    )
    assert "Autotask could not be reached" in waiting.args["text"]
    assert "<!date^" in str(waiting.args["blocks"])  # the retry time, in the reader's time zone
    final = await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    assert final.args["ts"] == waiting.args["ts"]
    assert "waiting for Autotask" not in _said(final)
    contracts = [
        c for c in slack.sandbox.tenant.table("Contracts").values()
        if c["contractName"] == "Delta block"
    ]  # fmt: skip
    assert len(contracts) == 1  # looked up before it was sent again: one contract


async def _stranded(slack: Harness) -> tuple[str, str]:
    """An Apply whose process stopped after its first step (a draining replica hands the run
    back, still "applying", with no lease): what a crash leaves for another process."""
    await _apply(slack)
    slack.sandbox.latency = 0.5  # slow enough that the message shows a step under way
    first = await slack.stub.wait_until(
        "chat.update", lambda a: "applying, step" in str(a.get("text"))
    )
    slack.container.runner.draining = True
    await slack.settle()
    slack.container.runner.draining = False
    slack.sandbox.latency = 0
    ts = str(first.args["ts"])
    onboarding_id = button_value(first.args["blocks"], "run_cancel")
    return onboarding_id, ts


async def test_an_interrupted_run_is_resumed_in_its_message_and_the_requester_told(
    slack: Harness,
) -> None:
    onboarding_id, ts = await _stranded(slack)
    dms = len(slack.stub.named("chat.postMessage"))
    assert await slack.container.onboarding.resume_orphans() == [onboarding_id]
    await slack.container.onboarding.runs.settle()
    updates = [c for c in slack.stub.named("chat.update") if c.args["ts"] == ts]
    assert any("resumed after an interruption" in str(c.args.get("text")) for c in updates)
    assert "· applied" in str(updates[-1].args["blocks"])
    told = slack.stub.named("chat.postMessage")[dms:]
    notices = [c for c in told if "has continued on its own" in str(c.args.get("text"))]
    assert len(notices) == 1 and notices[0].args["channel"].startswith("D")  # a DM, once


async def test_a_stranded_run_is_offered_by_onboard_and_app_home_and_resume_finishes_it(
    slack: Harness,
) -> None:
    onboarding_id, ts = await _stranded(slack)

    await slack.command("")
    offered = await slack.stub.wait_until("respond", lambda a: "did not finish" in str(a))
    assert offered.args.get("response_type") == "ephemeral"
    assert _accessory(offered.args["blocks"], "run_retry") == onboarding_id
    assert "Resume" in str(offered.args["blocks"])

    await slack.payload({"type": "event_callback", "team_id": "T1", "event": {
        "type": "app_home_opened", "user": "U1", "tab": "home"}})  # fmt: skip
    home = await slack.stub.wait_until("views.publish", lambda a: a.get("user_id") == "U1")
    assert "Waiting for you" in str(home.args["view"])
    assert _accessory(home.args["view"]["blocks"], "home_retry") == onboarding_id

    await slack.payload(message_click("run_retry", onboarding_id))  # Resume, from the ephemeral
    final = await slack.stub.wait_until(
        "chat.update", lambda a: a["ts"] == ts and "· applied" in str(a["blocks"])
    )
    assert final.args["channel"] == "C1"
    await slack.command("")
    await slack.settle()
    assert len([c for c in slack.stub.named("respond") if "did not finish" in str(c.args)]) == 1
