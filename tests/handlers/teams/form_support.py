"""Driving the onboarding dialog as Teams does: task/fetch, task/submit with the card's inputs,
``application/search`` for typeahead and ``adaptiveCard/action`` for Universal Actions."""

from __future__ import annotations

from typing import Any

from tests.handlers.teams.reading import dialog_card
from tests.support import Reply
from tests.teams_harness import Harness
from tests.teams_stub import invoke

OPEN = {"msteams": {"type": "task/fetch"}, "verb": "onboard.open"}


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every input of a card by id (fields are its body's inputs)."""
    return {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}


def button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    found = [a["data"] for a in card.get("actions", []) if a.get("data", {}).get("verb") == verb]
    assert found, f"no {verb} button in {[a.get('title') for a in card.get('actions', [])]}"
    data: dict[str, Any] = found[0]
    return data


def texts(card: dict[str, Any]) -> list[str]:
    return [run["text"] for e in card["body"] for run in e.get("inlines", [])]


def checked(reply: Reply) -> Reply:
    assert reply.status == 200, reply.body
    assert reply.seconds < 5, f"Teams would have given up: {reply.seconds:.2f} s"
    return reply


async def open_dialog(
    teams: Harness, company: str = "Acme Dental", **kwargs: Any
) -> dict[str, Any]:
    reply = checked(await teams.post(invoke("task/fetch", {**OPEN, "company": company},
                                            teams.stub.url, **kwargs)))  # fmt: skip
    return dialog_card(reply.body)


async def press(
    teams: Harness, card: dict[str, Any], verb: str, values: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Reply:  # fmt: skip
    """Press a button of a dialog card with ``values`` typed into its inputs (the inputs the
    card already held are sent too, as Teams does)."""
    typed = {i: e["value"] for i, e in inputs(card).items() if e.get("value") is not None}
    typed = {k: v if isinstance(v, str) else _number(v) for k, v in typed.items()}
    data = {**typed, **(values or {}), **button(card, verb)}
    return checked(await teams.post(invoke("task/submit", data, teams.stub.url, **kwargs)))


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


async def next_card(
    teams: Harness, card: dict[str, Any], values: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    return dialog_card((await press(teams, card, "onboard.next", values, **kwargs)).body)


def search(dataset: str, text: str, service_url: str, **kwargs: Any) -> dict[str, Any]:
    activity = invoke("application/search", {}, service_url, **kwargs)
    activity["value"] = {"kind": "search", "queryText": text, "dataset": dataset,
                         "queryOptions": {"skip": 0, "top": 15}}  # fmt: skip
    return activity


def execute(verb: str, data: dict[str, Any], service_url: str, **kwargs: Any) -> dict[str, Any]:
    activity = invoke("adaptiveCard/action", {}, service_url, **kwargs)
    activity["value"] = {"action": {"type": "Action.Execute", "verb": verb, "data": data},
                         "trigger": "manual"}  # fmt: skip
    return activity


async def break_fix_review(
    teams: Harness, contract: dict[str, str] | None = None, people: dict[str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:  # fmt: skip
    """Delta Print Works as a break/fix client, straight to its review card (``people``: the
    answers of its people page, e.g. Client Portal contacts)."""
    from tests.onboarding_support import company_id

    delta = company_id(teams.sandbox.tenant, "Delta Print Works")
    card = await open_dialog(teams, "Delta Print Works", **kwargs)
    card = await next_card(teams, card, {"company": str(delta), "client_type": "break_fix",
                                         "convert_to_customer": "true"}, **kwargs)  # fmt: skip
    card = await next_card(teams, card, people or {}, **kwargs)
    for _ in range(2):
        card = await next_card(teams, card, **kwargs)
    card = await next_card(teams, card, contract or {}, **kwargs)
    assert card["actions"][-1]["data"]["verb"] == "onboard.apply", texts(card)
    return card


def contract(kind: int, name: str, start: str, end: str) -> dict[str, str]:
    return {"billing_contracts.0.type": str(kind), "billing_contracts.0.name": name,
            "billing_contracts.0.start": start, "billing_contracts.0.end": end}  # fmt: skip
