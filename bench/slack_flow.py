"""The whole Slack flow of one onboarding, driven as a person drives it, for counting Autotask calls.

``/onboard Acme Dental``, then every page: each answer that redraws the page (the company, the
client type, the Client Portal users, the services) is chosen first, as a click Slack sends at
once, then the page is submitted; the review; Apply; the run. Everything goes through signed
requests into the running bot (``tests/slack_harness.py``), Autotask is the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.slack_harness import Harness, next_view, open_form

Values = Mapping[str, Any]  # field path -> the answer, as the form keeps it


def field_values(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers by field path, as a person would enter them in the page's inputs."""
    values: dict[str, Any] = {}
    for key, value in answers.items():
        if key == "services":
            values["services"] = list(value)
            values |= {f"services.{sid}": units for sid, units in value.items()}
        elif key == "devices":
            values |= {f"devices.{sid}": ids for sid, ids in value.items()}
        else:
            values[key] = value
    return values


def _option(value: Any) -> dict[str, Any]:
    return {"value": str(value), "text": {"type": "plain_text", "text": str(value)}}


def _element(kind: str, value: Any) -> dict[str, Any]:
    if kind in ("static_select", "external_select", "radio_buttons"):
        return {"type": kind, "selected_option": _option(value) if value is not None else None}
    if kind in ("multi_static_select", "multi_external_select"):
        return {"type": kind, "selected_options": [_option(v) for v in value or []]}
    if kind == "checkboxes":
        return {"type": kind, "selected_options": [_option("yes")] if value else []}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    return {"type": kind, "value": None if value is None else str(value)}


def _inputs(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if b.get("type") == "input"]


def _shown(element: Mapping[str, Any]) -> Any:
    """What an input shows when the page opens (its initial value), as the answer's value."""
    if "initial_option" in element:
        return element["initial_option"]["value"]
    if "initial_options" in element:
        values = [o["value"] for o in element["initial_options"]]
        return bool(values) if element["type"] == "checkboxes" else values
    return element.get("initial_date", element.get("initial_value"))


def page_state(view: Mapping[str, Any], values: Values) -> dict[str, Any]:
    """The view state a person leaves: every input of the page, filled from ``values``, the
    others left as the page showed them."""
    state: dict[str, Any] = {}
    for block in _inputs(view):
        path, element = block["block_id"], block["element"]
        value = values[path] if path in values else _shown(element)
        state[path] = {path: _element(element["type"], value)}
    return {"values": state}


async def _choose(
    slack: Harness, view: dict[str, Any], path: str, values: Values
) -> dict[str, Any]:
    """A dependent answer chosen: Slack sends the click, the bot redraws the page."""
    state = page_state(view, values)
    element = state["values"][path][path]
    before = len(slack.stub.named("views.update"))
    await slack.payload(slack.block_action(view, path, values=state, element=element))
    calls = await slack.stub.wait_for("views.update", before + 1, timeout=30)
    return {**calls[-1].args["view"], "id": "V1"}


async def fill_pages(
    slack: Harness, company: str, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    """From ``/onboard <company>`` through every page to the review: the review view, and how many
    Autotask calls the sandbox had logged when the last page was submitted."""
    values = field_values(answers)
    view = await open_form(slack, company)
    reviewed_from = 0
    while view["callback_id"] == "onboard_page":
        chosen: set[str] = set()
        while pending := [
            b["block_id"] for b in _inputs(view)
            if b.get("dispatch_action") and b["block_id"] not in chosen
            and values.get(b["block_id"]) not in (None, [], False)
        ]:  # fmt: skip
            chosen.add(pending[0])
            view = await _choose(slack, view, pending[0], values)
        reviewed_from = len(slack.sandbox.calls)
        reply = await slack.payload(slack.view_submission(view, page_state(view, values)))
        assert reply.body is None or reply.body.get("response_action") != "errors", reply.body
        view = await next_view(slack, reply)
    assert view["callback_id"] == "onboard_review", view
    return view, reviewed_from


async def onboard(slack: Harness, company: str, answers: Mapping[str, Any]) -> int:
    """From ``/onboard <company>`` to the run's end, the progress message saying applied.
    Returns how many Autotask calls the sandbox had logged when the last page was submitted:
    what follows is the Review, Apply and the run."""
    review, reviewed_from = await fill_pages(slack, company, answers)
    await slack.payload(slack.view_submission(review, {"values": {}}))
    await slack.stub.wait_until(
        "chat.update", lambda a: "· applied" in str(a["blocks"]), timeout=60
    )
    await slack.settle()
    return reviewed_from
