"""Every Slack action checks who acts: anyone in a channel can press a progress message's buttons,
and any signed payload can name any draft. A refused person is told why, privately and in their
own language, and nothing happens to the draft or the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.autotask.sandbox import Fault
from services.store import repositories as repo
from services.store.tables import Onboarding
from tests.handlers.slack.test_flow import break_fix_review, people_page
from tests.onboarding_support import company_id, contacts_of, writes
from tests.slack_harness import Harness, open_form, running_bot, submit
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

NOT_YOURS_ES = "Solo quien solicitó esta incorporación (o un administrador de incorporaciones)"
FORM_NOT_YOURS_ES = "Este formulario pertenece a otra persona"
MARTA = "marta.ruiz@brightline-it.example"
DAN = "dan.okafor@brightline-it.example"
BEATRIZ = "beatriz.lima@brightline-it.example"


async def _failed_run(slack: Harness) -> tuple[str, Any]:
    """Marta (U1) applies a break/fix onboarding of Delta Print Works with a Client Portal user;
    Autotask refuses the portal user, so the run fails there: its id and failed message."""
    tenant = slack.sandbox.tenant
    delta = company_id(tenant, "Delta Print Works")
    view = await open_form(slack, "Delta Print Works")
    view = await submit(slack, view, state(company=select(delta), client_type=radio("break_fix"),
                                           convert_to_customer=checkbox(True)))  # fmt: skip
    contact = next(c for c in contacts_of(tenant, delta) if c.get("emailAddress"))["id"]
    view = await submit(slack, view, state(portal_contacts=multi([contact]),
                                           portal_security_level=static(1)))  # fmt: skip
    for _ in range(3):  # organization, invoice settings, break/fix
        view = await submit(slack, view, {"values": {}})
    assert view["callback_id"] == "onboard_review", view
    slack.sandbox.fail_next(Fault(status=500, errors=["Portal module is not licensed."],
                                  method="POST", path="ClientPortalUsers"))  # fmt: skip
    await slack.payload(slack.view_submission(view, {"values": {}}))
    failed = await slack.stub.wait_until("chat.update", lambda a: "run_retry" in str(a["blocks"]))
    return button_value(failed.args["blocks"], "run_retry"), failed


async def _status(slack: Harness, onboarding_id: str) -> str:
    async with slack.container.db.transaction() as session:
        onboarding = await session.get(Onboarding, onboarding_id)
        assert onboarding is not None
        return onboarding.status


def _dms(slack: Harness, user: str) -> list[Any]:
    return [c for c in slack.stub.named("chat.postMessage") if c.args.get("channel") == f"D{user}"]


async def test_someone_else_clicking_retry_is_told_privately_and_nothing_runs(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, onboarding_admins=[BEATRIZ]) as slack:
        onboarding_id, failed = await _failed_run(slack)
        await slack.settle()
        updates = len(slack.stub.named("chat.update"))
        slack.sandbox.reset_log()

        assert (
            await slack.payload(message_click("run_retry", onboarding_id, user_id="U2"))
        ).status == 200
        told = await slack.stub.wait_until("chat.postEphemeral", lambda a: a.get("user") == "U2")
        assert told.args["channel"] == "C1" and NOT_YOURS_ES in told.args["text"]  # Dan's Spanish
        await slack.settle()
        assert slack.sandbox.calls == []  # no run: Autotask is not even read
        assert await _status(slack, onboarding_id) == "failed"
        assert len(slack.stub.named("chat.update")) == updates  # the message is untouched
        assert _dms(slack, "U2") == []

        # An onboarding administrator may retry it: the portal user is created now, and its
        # one-time password goes to Marta, who asked for the onboarding, not to Beatriz.
        await slack.payload(message_click("run_retry", onboarding_id, user_id="UB"))
        done = await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
        assert done.args["ts"] == failed.args["ts"]
        await slack.settle()
        [password] = [c for c in _dms(slack, "U1") if "Client Portal password" in c.args["text"]]
        assert _dms(slack, "UB") == [] and slack.stub.named("chat.postEphemeral") == [told]
        assert password.args["text"].count("`") == 2  # the password itself, as a code span


async def test_someone_else_clicking_cancel_is_told_privately_and_the_run_goes_on(
    slack: Harness,
) -> None:
    view = await break_fix_review(slack)
    slack.sandbox.latency = 0.2  # each step takes a moment: time to click
    await slack.payload(slack.view_submission(view, {"values": {}}))
    progress = await slack.stub.wait_until("chat.postMessage", lambda a: a.get("channel") == "C1")
    onboarding_id = button_value(progress.args["blocks"], "run_cancel")
    await slack.payload(message_click("run_cancel", onboarding_id, user_id="U2"))
    told = await slack.stub.wait_until("chat.postEphemeral", lambda a: a.get("user") == "U2")
    assert NOT_YOURS_ES in told.args["text"]
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    assert await _status(slack, onboarding_id) == "applied"


async def _marta_draft(slack: Harness) -> str:
    async with slack.container.db.transaction() as session:
        draft = await repo.latest_draft(session, platform="slack", user_id="U1")
        assert draft is not None
        return draft.id


async def test_a_payload_naming_someone_elses_draft_changes_nothing_and_says_so(
    slack: Harness,
) -> None:
    review = await break_fix_review(slack)  # Marta's draft, on its review
    draft_id = await _marta_draft(slack)

    # The review's submission (Apply) sent by Dan: refused in the modal, in Spanish.
    reply = await slack.payload(slack.view_submission(review, {"values": {}}, user_id="U2"))
    assert reply.body["response_action"] == "update"
    assert FORM_NOT_YOURS_ES in str(reply.body["view"]["blocks"])

    # Back, Resume and Start over on her modals, clicked by Dan: the modal says why.
    for action, value in (
        ("nav_back", "review"),
        ("draft_resume", draft_id),
        ("draft_new", draft_id),
    ):
        before = len(slack.stub.named("views.update"))
        await slack.payload(slack.block_action(review, action, value, user_id="U2"))
        [*_, shown] = await slack.stub.wait_for("views.update", before + 1)
        assert FORM_NOT_YOURS_ES in str(shown.args["view"]["blocks"]), action

    # App Home's Resume, naming her draft.
    click = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U2"},
             "trigger_id": "trigger-home", "container": {"type": "view", "view_id": "VHOME"},
             "view": {"id": "VHOME", "type": "home"},
             "actions": [{"action_id": "home_resume", "block_id": "b", "value": draft_id,
                          "type": "button"}]}  # fmt: skip
    before = len(slack.stub.named("views.update"))
    await slack.payload(click)
    [*_, shown] = await slack.stub.wait_for("views.update", before + 1)
    assert FORM_NOT_YOURS_ES in str(shown.args["view"]["blocks"])

    await slack.settle()
    async with slack.container.db.transaction() as session:
        draft = await repo.get_draft(session, draft_id=draft_id)
        assert draft is not None and draft.page == "break_fix"  # still hers, where she left it
        assert await repo.list_onboardings(session) == []
    assert writes(slack.sandbox.calls) == []
    reply = await slack.payload(slack.view_submission(review, {"values": {}}))  # she still may
    assert "<#C1>" in str(reply.body["view"]["blocks"])
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))


async def test_app_home_retry_of_someone_elses_onboarding_is_refused_on_their_home(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as slack:
        onboarding_id, _ = await _failed_run(slack)
        await slack.settle()
        slack.sandbox.reset_log()
        click = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U2"},
                 "trigger_id": "trigger-home", "view": {"id": "VHOME", "type": "home"},
                 "actions": [{"action_id": "home_retry", "block_id": "b", "value": onboarding_id,
                              "type": "button"}]}  # fmt: skip
        await slack.payload(click)
        published = await slack.stub.wait_until("views.publish", lambda a: a["user_id"] == "U2")
        assert NOT_YOURS_ES in str(published.args["view"]["blocks"])
        await slack.settle()
        assert slack.sandbox.calls == [] and await _status(slack, onboarding_id) == "failed"


async def test_someone_removed_from_onboarders_finds_their_open_draft_stopped(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, onboarders=[MARTA, DAN]) as slack:
        view = await people_page(slack, "U1")  # Marta's draft, open on the People page
        await slack.settle()
    async with running_bot(tmp_path, onboarders=[DAN]) as slack:  # restarted without her
        acme = company_id(slack.sandbox.tenant, "Acme Dental")
        contact = contacts_of(slack.sandbox.tenant, acme)[0]["id"]
        reply = await slack.payload(
            slack.view_submission(view, state(primary_contact=select(contact)))
        )
        assert reply.body["response_action"] == "update"
        assert f"{MARTA} may not onboard clients" in str(reply.body["view"]["blocks"])
        body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev2", "event_time": 1,
                           "event": {"type": "app_home_opened", "user": "U1", "tab": "home"}})  # fmt: skip
        await slack.post(body, {**signed(body), "Content-Type": "application/json"})
        [home] = await slack.stub.wait_for("views.publish")
        assert "may not onboard clients" in str(home.args["view"]["blocks"])
        async with slack.container.db.transaction() as session:
            draft = await repo.latest_draft(session, platform="slack", user_id="U1")
        assert draft is not None and draft.page == "people"
        assert not draft.answers.get("primary_contact")  # the refused submission saved nothing


async def test_status_shows_onboardings_to_onboarders_and_list_only_your_own(
    slack: Harness,
) -> None:
    view = await break_fix_review(slack)
    await slack.payload(slack.view_submission(view, {"values": {}}))
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
    await slack.settle()
    said: list[str] = []
    for user_id, text in (("U2", "status"), ("U2", "list"), ("U1", "list"), ("U3", "status")):
        await slack.command(text, user_id=user_id)
        said.append((await slack.stub.wait_for("respond", len(said) + 1))[-1].args["text"])
    dan_status, dan_list, marta_list, visitor = said
    assert "Delta Print Works" in dan_status and "aplicada" in dan_status  # Dan may onboard
    assert dan_list == "Aún no hay incorporaciones."  # none of his own
    assert "Delta Print Works" in marta_list
    assert "visitor@elsewhere.example may not onboard clients" in visitor


async def test_someone_who_may_not_onboard_cannot_retry_or_cancel_either(tmp_path: Path) -> None:
    """A visitor in the channel (not in ONBOARDERS, not an Autotask resource) presses Retry and
    Cancel on Marta's failed run: told privately, nothing runs, no password DM."""
    async with running_bot(tmp_path) as slack:
        onboarding_id, _ = await _failed_run(slack)
        await slack.settle()
        slack.sandbox.reset_log()
        updates = len(slack.stub.named("chat.update"))
        for action in ("run_retry", "run_cancel"):
            await slack.payload(message_click(action, onboarding_id, user_id="U3"))
        told = await slack.stub.wait_for("chat.postEphemeral", 2)
        assert all(c.args["user"] == "U3" and c.args["channel"] == "C1" for c in told)
        assert all("visitor@elsewhere.example may not onboard clients" in c.args["text"]
                   for c in told)  # fmt: skip
        await slack.settle()
        assert slack.sandbox.calls == [] and await _status(slack, onboarding_id) == "failed"
        assert len(slack.stub.named("chat.update")) == updates and _dms(slack, "U3") == []


async def test_page_submissions_and_redraws_naming_someone_elses_draft_change_nothing(
    slack: Harness,
) -> None:
    view = await people_page(slack, "U1")  # Marta's draft on its People page
    draft_id = await _marta_draft(slack)
    tenant = slack.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    contact = contacts_of(tenant, acme)[0]["id"]
    slack.sandbox.reset_log()

    reply = await slack.payload(
        slack.view_submission(view, state(primary_contact=select(contact)), user_id="U2")
    )
    assert reply.body["response_action"] == "update"
    assert FORM_NOT_YOURS_ES in str(reply.body["view"]["blocks"])
    before = len(slack.stub.named("views.update"))  # a dependent answer changed, by Dan
    await slack.payload(slack.block_action(view, "portal_contacts", user_id="U2",
                                           element=multi([contact])))  # fmt: skip
    [*_, shown] = await slack.stub.wait_for("views.update", before + 1)
    assert FORM_NOT_YOURS_ES in str(shown.args["view"]["blocks"])
    await slack.settle()
    async with slack.container.db.transaction() as session:
        draft = await repo.get_draft(session, draft_id=draft_id)
    assert draft is not None and draft.page == "people"
    assert not draft.answers.get("primary_contact") and not draft.answers.get("portal_contacts")
    assert writes(slack.sandbox.calls) == []


async def test_removed_from_onboarders_stops_resume_and_apply_too(tmp_path: Path) -> None:
    async with running_bot(tmp_path, onboarders=[MARTA, DAN]) as slack:
        review = await break_fix_review(slack)  # Marta's draft, on its review
        draft_id = await _marta_draft(slack)
        await slack.settle()
    async with running_bot(tmp_path, onboarders=[DAN]) as slack:
        reply = await slack.payload(slack.view_submission(review, {"values": {}}))  # Apply
        assert f"{MARTA} may not onboard clients" in str(reply.body["view"]["blocks"])
        before = len(slack.stub.named("views.update"))
        await slack.payload(slack.block_action(review, "draft_resume", draft_id))
        [*_, shown] = await slack.stub.wait_for("views.update", before + 1)
        assert f"{MARTA} may not onboard clients" in str(shown.args["view"]["blocks"])
        await slack.settle()
        async with slack.container.db.transaction() as session:
            assert await repo.list_onboardings(session) == []
        assert writes(slack.sandbox.calls) == []
