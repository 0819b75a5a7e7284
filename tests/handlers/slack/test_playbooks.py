"""A playbook from Slack: chosen on the first page, every later page shown once pre-filled, and the
review saying which answers came from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.onboarding_support import company_id
from tests.slack_harness import Harness, next_view, open_form, running_bot, submit
from tests.slack_stub import shown_state, static

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "playbooks"


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, playbooks_dir=EXAMPLES) as harness:
        yield harness
    assert harness.stub.invalid == [], harness.stub.invalid


def _context_text(view: dict[str, Any]) -> str:
    return "\n".join(
        e.get("text", "") for b in view["blocks"] if b["type"] == "context" for e in b["elements"]
    )


async def _choose(slack: Harness, view: dict[str, Any], playbook: str) -> dict[str, Any]:
    values = shown_state(view)
    values["values"]["playbook"] = {"playbook": static(playbook)}
    before = len(slack.stub.named("views.update"))
    reply = await slack.payload(slack.block_action(view, "playbook", values=values))
    assert reply.status == 200 and reply.seconds < 3
    calls = await slack.stub.wait_for("views.update", before + 1)
    return {**calls[-1].args["view"], "id": "V1"}


async def test_a_playbook_prefills_every_page_and_the_review_names_it(slack: Harness) -> None:
    view = await open_form(slack, "Acme Dental")
    assert any(b.get("block_id") == "playbook" for b in view["blocks"])
    view = await _choose(slack, view, "managed-gold")
    client_type = next(b for b in view["blocks"] if b.get("block_id") == "client_type")
    assert client_type["element"]["initial_option"]["value"] == "managed"

    pages = 0
    while view["callback_id"] == "onboard_page":  # Next on every page, touching nothing
        view = await submit(slack, view, shown_state(view))
        pages += 1
    assert view["callback_id"] == "onboard_review", view
    assert pages == 5  # client, people, organization, billing, managed: each shown once
    lines = _context_text(view).splitlines()
    assert lines[0] == "Playbook: Managed Gold"
    assert not any(line.startswith("Changed from the playbook") for line in lines)

    reply = await slack.payload(slack.view_submission(view, {"values": {}}))
    assert reply.status == 200
    await slack.stub.wait_until("chat.update", lambda a: "applied" in str(a.get("text", "")))
    acme = company_id(slack.sandbox.tenant, "Acme Dental")
    contracts = [
        c for c in slack.sandbox.tenant.table("Contracts").values() if c["companyID"] == acme
    ]
    assert [c["contractName"] for c in contracts] == ["Acme Dental - Managed Gold"]


async def test_an_answer_changed_by_hand_is_named_on_the_review(slack: Harness) -> None:
    view = await _choose(slack, await open_form(slack, "Acme Dental"), "managed-gold")
    while view["callback_id"] == "onboard_page":
        values = shown_state(view)
        if "contract_period" in values["values"]:
            values["values"]["contract_period"] = {"contract_period": static(2)}  # Quarterly
        view = await next_view(slack, await slack.payload(slack.view_submission(view, values)))
    lines = _context_text(view).splitlines()
    assert lines[0] == "Playbook: Managed Gold"
    assert "Changed from the playbook: Billing period" in lines
    answered = next(line for line in lines if line.startswith("From the playbook: "))
    assert "SLA" in answered and "Billing period" not in answered
