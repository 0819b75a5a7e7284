"""An Apply that died between claiming its draft and storing the onboarding (a crash, a killed
replica) leaves the draft marked as being applied. Nothing of it may show as a raw key or crash
Resume: while the claim is fresh it is "being applied", once stale it is back on its last page,
where Apply is offered again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services.store import repositories as repo
from services.store.tables import Draft
from tests.handlers.slack.test_flow import break_fix_review
from tests.slack_harness import Harness, next_view
from tests.slack_stub import signed


async def _crash_after_claim(slack: Harness, minutes_ago: float) -> str:
    async with slack.container.db.transaction() as session:
        draft = await repo.latest_draft(session, platform="slack", user_id="U1")
        assert draft is not None and await repo.claim_draft(session, draft_id=draft.id)
        when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        await session.execute(update(Draft).where(Draft.id == draft.id).values(updated_at=when))
        return draft.id


def _shown(slack: Harness) -> str:
    return " ".join(str(c.args) for c in slack.stub.calls)


async def test_a_stale_claim_comes_back_on_its_last_page_and_applies(slack: Harness) -> None:
    await break_fix_review(slack)
    draft_id = await _crash_after_claim(slack, minutes_ago=6)
    slack.stub.calls.clear()

    await slack.command("")  # /onboard offers the saved draft, by its page's name
    [offer] = await slack.stub.wait_for("views.update")
    assert "(page: Break/fix)" in str(offer.args["view"]["blocks"])
    await slack.command("list")
    [listed] = await slack.stub.wait_for("respond")
    assert "Break/fix" in listed.args["text"]
    resume = {**offer.args["view"], "id": "V1"}
    await slack.payload(slack.block_action(resume, "draft_resume", draft_id))
    [_, page] = await slack.stub.wait_for("views.update", 2)
    assert page.args["view"]["callback_id"] == "onboard_page"
    review = await next_view(slack, await slack.payload(
        slack.view_submission({**page.args["view"], "id": "V1"}, {"values": {}})))  # fmt: skip
    assert review["callback_id"] == "onboard_review"
    await slack.payload(slack.view_submission(review, {"values": {}}))
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    assert "__applying__" not in _shown(slack) and "page.__" not in _shown(slack)


async def test_a_fresh_claim_is_being_applied_not_a_crash(slack: Harness) -> None:
    await break_fix_review(slack)
    draft_id = await _crash_after_claim(slack, minutes_ago=1)
    slack.stub.calls.clear()
    click = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"},
             "trigger_id": "trigger-home", "view": {"id": "VHOME", "type": "home"},
             "actions": [{"action_id": "home_resume", "block_id": "b", "value": draft_id,
                          "type": "button"}]}  # fmt: skip
    await slack.payload(click)
    [shown] = await slack.stub.wait_for("views.update")
    assert "being applied right now" in str(shown.args["view"]["blocks"])
    body = ('{"type": "event_callback", "team_id": "T1", "event_id": "Ev9", "event_time": 1, '
            '"event": {"type": "app_home_opened", "user": "U1", "tab": "home"}}')  # fmt: skip
    await slack.post(body, {**signed(body), "Content-Type": "application/json"})
    await slack.stub.wait_for("views.publish")
    await slack.settle()
    assert "__applying__" not in _shown(slack) and "page.__" not in _shown(slack)
