"""What a person does in Slack for one managed onboarding, with and without a playbook.

Counts user actions through the real Slack handlers (signed requests into aiohttp + Bolt, Slack a
local Web API stub, Autotask the sandbox): the command, every field set (1 per text, number,
date, single choice or toggle changed; 1 per option picked or unpicked in a multi-select), and
every button pressed (Next, Review, Apply). With the playbook ("Managed Gold", from
docs/examples/playbooks) the person picks it and presses Next on each page; without it, a second
bot with no playbooks is given, page by page, exactly the answers the first run ended with, so both
runs apply the same onboarding (checked at the end).

    .venv/bin/python -m bench.effort
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from tests.onboarding_support import company_id
from tests.slack_harness import Harness, next_view, open_form, running_bot
from tests.slack_stub import shown_state, static

PLAYBOOKS = Path(__file__).resolve().parents[1] / "docs" / "examples" / "playbooks"
COMPANY = "Acme Dental"


def _value(element: dict[str, Any]) -> Any:
    """What a state element holds, comparable across two bots (option values, not labels)."""
    if "selected_options" in element:
        return frozenset(o["value"] for o in element["selected_options"] or [])
    if "selected_option" in element:
        option = element["selected_option"]
        return option["value"] if option else None
    return element.get("value", element.get("selected_date"))


def _cost(shown: Any, wanted: Any) -> int:
    """Actions to turn what a field shows into what is wanted."""
    if shown == wanted:
        return 0
    if isinstance(wanted, frozenset):
        return len(wanted ^ (shown or frozenset()))
    return 1


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    return dict(next(iter(values["values"][block_id].values())))


def _dependent(view: dict[str, Any]) -> list[str]:
    return [
        b["block_id"]
        for b in view["blocks"]
        if b.get("type") == "input" and b.get("dispatch_action")
    ]


async def _redraw(bot: Harness, view: dict[str, Any], values: dict[str, Any], block: str) -> Any:
    before = len(bot.stub.named("views.update"))
    reply = await bot.payload(bot.block_action(view, block, values=values))
    assert reply.status == 200
    calls = await bot.stub.wait_for("views.update", before + 1)
    return {**calls[-1].args["view"], "id": "V1"}


async def _applied(bot: Harness, review: dict[str, Any]) -> list[tuple[str, int]]:
    reply = await bot.payload(bot.view_submission(review, {"values": {}}))
    assert reply.status == 200
    await bot.stub.wait_until("chat.update", lambda a: "applied" in str(a.get("text", "")))
    tenant = bot.sandbox.tenant
    acme = company_id(tenant, COMPANY)
    contracts = {i for i, c in tenant.table("Contracts").items() if c["companyID"] == acme}
    units = tenant.table("ContractServiceUnits").values()
    return sorted(
        (str(u["serviceID"]), int(u["units"])) for u in units if u["contractID"] in contracts
    )


async def with_playbook() -> tuple[int, list[dict[str, Any]], list[tuple[str, int]]]:
    async with running_bot(Path(tempfile.mkdtemp()), playbooks_dir=PLAYBOOKS) as bot:
        actions = 1  # /onboard Acme Dental
        view = await open_form(bot, COMPANY)
        values = shown_state(view)
        values["values"]["playbook"] = {"playbook": static("managed-gold")}
        view = await _redraw(bot, view, values, "playbook")
        actions += 1  # the playbook picked
        submitted = []
        while view["callback_id"] == "onboard_page":
            values = shown_state(view)  # nothing touched: Next
            submitted.append(values)
            view = await next_view(bot, await bot.payload(bot.view_submission(view, values)))
            actions += 1
        actions += 1  # Apply
        return actions, submitted, await _applied(bot, view)


async def without_playbook(
    pages: list[dict[str, Any]],
) -> tuple[int, list[tuple[str, int]]]:
    async with running_bot(Path(tempfile.mkdtemp())) as bot:
        actions = 1  # /onboard Acme Dental
        view = await open_form(bot, COMPANY)
        for wanted in pages:
            values = shown_state(view)
            # Answers others depend on first: Slack redraws the page after each of them.
            for block in _dependent(view):
                if block not in wanted["values"] or block == "playbook":
                    continue
                cost = _cost(_value(_element(values, block)), _value(_element(wanted, block)))
                if cost:
                    actions += cost
                    values["values"][block] = wanted["values"][block]
                    view = await _redraw(bot, view, values, block)
                    values = shown_state(view)
                    values["values"][block] = wanted["values"][block]
            for block in values["values"]:
                if block in wanted["values"]:
                    shown = _value(_element(values, block))
                    actions += _cost(shown, _value(_element(wanted, block)))
                    values["values"][block] = wanted["values"][block]
            view = await next_view(bot, await bot.payload(bot.view_submission(view, values)))
            actions += 1  # Next, or Review on the last page
        assert view["callback_id"] == "onboard_review", view
        actions += 1  # Apply
        return actions, await _applied(bot, view)


async def main() -> None:
    guided, pages, units = await with_playbook()
    manual, manual_units = await without_playbook(pages)
    assert units == manual_units, (units, manual_units)  # the same onboarding both ways
    print(f"Managed onboarding of {COMPANY} through the Slack handlers ({len(pages)} pages, "
          f"{len(units)} contract services):")  # fmt: skip
    print(f"  with the playbook 'Managed Gold': {guided} user actions")
    print(f"  without a playbook:               {manual} user actions")
    print(f"  ratio: {manual / guided:.1f}x fewer actions with the playbook (target: at most 8)")


if __name__ == "__main__":
    asyncio.run(main())
