"""Nothing a user can type, or a payload can carry, gives a 500 or a crash.

The views are the real ones: a managed and a break/fix onboarding are walked to their reviews and
every modal Slack was shown (in an ack, by ``views.open`` or ``views.update``) is kept. Hypothesis
then sends signed ``view_submission``, ``block_actions`` and ``block_suggestion`` payloads built
from them, with random values, values of the wrong type and keys missing, as three people (the
draft's owner, another onboarder, a visitor). For every one: a 2xx, or a clear 4xx; no ERROR in
the logs (Bolt answers 200 even when a listener crashed); nothing Slack would refuse; and no
Autotask write. Derandomized with a bounded number of examples, so CI sees the same payloads.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from handlers.slack.ids import Action
from tests.onboarding_support import company_id, writes
from tests.slack_checks import ErrorLog
from tests.slack_harness import Harness, next_view, open_form, submit
from tests.slack_stub import checkbox, date_input, multi, radio, select, state, static, text_input

EXAMPLES = 300
NASTY = ["²", "①", "2024", "9" * 5000, "", " ", "-1", "0", "1e9", "NaN", "null", "<!channel>",
         "*Bold* _x_", "\u0000", "🙂" * 50, "x" * 3001, "١٢٣", "１２３", "2027-02-30", "2027-13-01",
         "12345678901234567890123", "../../etc/passwd", "{}", "[]"]  # fmt: skip
WRONG = [None, 0, -1, 10**30, 1.5, True, [], [1], {}, {"value": 1}, "x"]
USERS = ["U1", "U2", "U3"]  # the first draft's owner, another onboarder, a visitor
MESSAGE_ACTIONS = [Action.RETRY, Action.CANCEL, Action.HOME_RETRY, Action.HOME_RESUME,
                   Action.REMINDER_CHECK, Action.REMINDER_SNOOZE_DAY, Action.REMINDER_SNOOZE_WEEK,
                   Action.REMINDER_NOT_MINE, Action.OPEN_AUTOTASK]  # fmt: skip


def _service(slack: Harness, name: str) -> int:
    return next(i for i, s in slack.sandbox.tenant.table("Services").items() if s["name"] == name)


async def _record(slack: Harness) -> tuple[list[dict[str, Any]], set[str]]:
    """Every modal of two walked onboardings (the managed one with services chosen), and the ids
    of their drafts."""
    seen: list[dict[str, Any]] = []
    tenant = slack.sandbox.tenant
    view = await open_form(slack, "Acme Dental")
    seen.append(view)
    view = await submit(slack, view, state(company=select(company_id(tenant, "Acme Dental")),
                                           client_type=radio("managed"),
                                           convert_to_customer=checkbox(True)))  # fmt: skip
    for _ in ("people", "organization", "billing"):
        seen.append(view)
        view = await submit(slack, view, {"values": {}})
    chosen = multi([_service(slack, "Managed Workstation")], "multi_static_select")
    before = len(slack.stub.named("views.update"))
    await slack.payload(slack.block_action(view, "services", values=state(services=chosen),
                                           element=chosen))  # fmt: skip
    view = {**(await slack.stub.wait_for("views.update", before + 1))[-1].args["view"], "id": "V1"}
    contract = state(sla=static(2), contract_name=text_input("Acme 2027"),
                     contract_start=date_input("2027-01-01"), contract_end=date_input("2027-12-31"),
                     contract_period=static(1), services=chosen)  # fmt: skip
    seen.append(view)
    seen.append(await submit(slack, view, contract))  # the review
    view = await open_form(slack, "Delta Print Works", user_id="U2")
    view = await submit(slack, view, state(company=select(company_id(tenant, "Delta Print Works")),
                                           client_type=radio("break_fix")), user_id="U2")  # fmt: skip
    for _ in range(4):
        seen.append(view)
        view = await submit(slack, view, {"values": {}}, user_id="U2")
    seen.append(view)
    reply = await slack.command("")  # the offer to resume Marta's draft
    assert reply.status == 200
    await slack.settle()
    seen += [c.args["view"] for c in slack.stub.calls if c.method in ("views.open", "views.update")]
    modals = {json.dumps(v, sort_keys=True): {**v, "id": v.get("id") or "V1"} for v in seen
              if v.get("callback_id") not in (None, "onboard_loading")}  # fmt: skip
    drafts = {json.loads(v["private_metadata"])["draft_id"] for v in modals.values()}
    return list(modals.values()), drafts


def _inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view.get("blocks", []) if b.get("type") == "input" and b.get("element")]


def _options(element: dict[str, Any]) -> list[str]:
    return [str(o.get("value")) for o in element.get("options") or [] if isinstance(o, dict)]


@st.composite
def _text(draw: st.DrawFn) -> Any:
    return draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.sampled_from(WRONG)))


@st.composite
def _element(draw: st.DrawFn, element: dict[str, Any]) -> dict[str, Any]:
    """A value for ``element`` as Slack would send it, or not quite."""
    kind = str(element.get("type"))
    real = _options(element)
    option = st.one_of(st.sampled_from(real) if real else _text(), _text()).map(
        lambda v: {"value": v, "text": {"type": "plain_text", "text": "x"}}
    )
    if kind in ("static_select", "external_select", "radio_buttons"):
        value: dict[str, Any] = {"selected_option": draw(st.one_of(option, st.sampled_from(WRONG)))}
    elif kind.startswith("multi_") or kind == "checkboxes":
        value = {"selected_options": draw(st.one_of(st.lists(option, max_size=4),
                                                    st.sampled_from(WRONG)))}  # fmt: skip
    elif kind == "datepicker":
        value = {"selected_date": draw(_text())}
    else:
        value = {"value": draw(_text())}
    if draw(st.integers(0, 9)) == 0:
        kind = draw(st.sampled_from(["plain_text_input", "static_select", "nonsense", ""]))
    return {"type": kind, **value}


@st.composite
def _state(draw: st.DrawFn, view: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in _inputs(view):
        if draw(st.booleans()):
            element = block["element"]
            action_id = str(element.get("action_id", block["block_id"]))
            values[block["block_id"]] = {action_id: draw(_element(element))}
    return {"values": values}


@st.composite
def _metadata(draw: st.DrawFn, view: dict[str, Any], drafts: list[str]) -> Any:
    real = str(view.get("private_metadata", ""))
    forged = json.dumps({"v": 1, "draft_id": draw(st.sampled_from([*drafts, "nope", ""])),
                         "channel_id": draw(st.sampled_from(["C1", None, "<!here>"]))})  # fmt: skip
    return draw(st.sampled_from([real, real, real, forged, "", "{", "null", "[]"]))


def _mangle(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    """Now and then a key Slack always sends goes missing, or has the wrong type."""
    if draw(st.integers(0, 5)) != 0:
        return payload
    paths = [("user",), ("user", "id"), ("view",), ("view", "id"), ("view", "state"),
             ("view", "private_metadata"), ("actions",), ("trigger_id",), ("action_id",),
             ("type",)]  # fmt: skip
    path = draw(st.sampled_from(paths))
    node: Any = payload
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        if draw(st.booleans()):
            node.pop(path[-1], None)
        else:
            node[path[-1]] = draw(st.sampled_from(WRONG))
    return payload


@st.composite
def payloads(draw: st.DrawFn, views: list[dict[str, Any]], drafts: list[str]) -> dict[str, Any]:
    view = draw(st.sampled_from(views))
    user = draw(st.sampled_from(USERS))
    envelope = {"id": view["id"], "hash": "h", "type": "modal",
                "callback_id": view.get("callback_id", ""),
                "private_metadata": draw(_metadata(view, drafts)), "state": draw(_state(view))}  # fmt: skip
    kind = draw(
        st.sampled_from(["view_submission", "block_actions", "block_suggestion", "message"])
    )
    base: dict[str, Any] = {"type": kind, "team": {"id": "T1"}, "user": {"id": user}}
    if kind == "view_submission":
        payload = {**base, "view": envelope}
    elif kind == "block_suggestion":
        searched = [str(b["element"].get("action_id")) for b in _inputs(view)
                    if "external" in str(b["element"].get("type"))] or ["company"]  # fmt: skip
        action = draw(st.sampled_from([*searched, "nonsense"]))
        payload = {**base, "action_id": action, "block_id": action, "value": draw(_text()),
                   "view": envelope}  # fmt: skip
    else:
        clickable = [str(e.get("action_id")) for b in view.get("blocks", [])
                     for e in [*(b.get("elements") or []), b.get("element") or {}, b.get("accessory") or {}]
                     if isinstance(e, dict) and e.get("action_id")]  # fmt: skip
        action_id: str
        if kind == "message":
            action_id, base["type"] = str(draw(st.sampled_from(MESSAGE_ACTIONS))), "block_actions"
        else:
            action_id = draw(st.sampled_from(clickable or [str(Action.BACK)]))
        clicked: dict[str, Any] = {"action_id": action_id, "block_id": action_id, "type": "button",
                  "value": draw(st.one_of(st.sampled_from(drafts), _text()))}  # fmt: skip
        payload = {**base, "trigger_id": "trigger-f", "actions": [clicked]}
        if kind == "message":
            payload |= {
                "channel": {"id": "C1"},
                "container": {"type": "message", "channel_id": "C1"},
            }
        else:
            payload["view"] = envelope
    return _mangle(draw, payload)


def _applies_a_real_draft(payload: dict[str, Any], drafts: set[str]) -> bool:
    """An owner's Apply of their own draft, or their Start over: legitimate, and the only
    payloads that may write to Autotask (or discard the drafts the others aim at)."""
    view = payload.get("view")
    if not isinstance(view, dict):
        return False
    try:
        draft = json.loads(view.get("private_metadata") or "null").get("draft_id")
    except (AttributeError, TypeError, ValueError):
        return False
    names_one = draft in drafts
    submits_review = (
        payload.get("type") == "view_submission" and view.get("callback_id") == "onboard_review"
    )
    actions = payload.get("actions")
    starts_over = isinstance(actions, list) and any(
        isinstance(a, dict) and a.get("action_id") == Action.NEW_DRAFT for a in actions)  # fmt: skip
    return names_one and (submits_review or starts_over)


async def _specific_cases(slack: Harness, views: list[dict[str, Any]]) -> int:
    """The issue's own cases on the real managed page: names are text, units are whole numbers."""
    managed = next(v for v in views if any(b.get("block_id") == "contract_name" for b in _inputs(v))
                   and any(str(b.get("block_id")).startswith("services.") for b in _inputs(v)))  # fmt: skip
    units = next(str(b["block_id"]) for b in _inputs(managed)
                 if str(b["block_id"]).startswith("services."))  # fmt: skip
    chosen = multi([int(units.split(".")[1])], "multi_static_select")
    tried = 0
    for name in ("²", "①", "2024"):
        values = state(sla=static(2), contract_name=text_input(name),
                       contract_start=date_input("2027-01-01"), contract_end=date_input("2027-12-31"),
                       contract_period=static(1), services=chosen)  # fmt: skip
        values["values"][units] = {units: {"type": "number_input", "value": "3"}}
        shown = await next_view(slack, await slack.payload(slack.view_submission(managed, values)))
        assert shown["callback_id"] == "onboard_review", (name, shown)  # accepted as a name
        tried += 1
    for bad in ("²", "9" * 5000):
        values = {"values": {units: {units: {"type": "number_input", "value": bad}}}}
        reply = await slack.payload(slack.view_submission(managed, values))
        assert reply.status == 200 and reply.body["response_action"] == "errors", (bad, reply.body)
        assert units in reply.body["errors"]  # beside the units field, not a 500
        tried += 1
    return tried


async def test_random_and_malformed_payloads_from_the_real_views_never_crash(
    slack: Harness,
) -> None:
    views, drafts = await _record(slack)
    assert len(views) >= 10 and len(drafts) == 2
    tried = await _specific_cases(slack, views)
    await slack.settle()
    slack.sandbox.reset_log()
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    loop = asyncio.get_running_loop()
    statuses: dict[int, int] = {}

    async def send(payload: dict[str, Any]) -> None:
        reply = await slack.payload(payload)
        await slack.settle()
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
        assert reply.status < 300 or reply.status in (400, 404), (reply.status, reply.body, payload)
        assert errors.records == [], (errors.report(), payload)
        assert slack.stub.invalid == [], (slack.stub.invalid, payload)
        assert writes(slack.sandbox.calls) == [], payload

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(payloads(views, sorted(drafts)))
    def one(payload: dict[str, Any]) -> None:
        nonlocal tried
        assume(not _applies_a_real_draft(payload, drafts))
        tried += 1
        asyncio.run_coroutine_threadsafe(send(payload), loop).result(timeout=60)

    try:
        await asyncio.to_thread(one)
    finally:
        logging.getLogger().removeHandler(errors)
    print(f"fuzz: {tried} Slack payloads tried, answers by status {sorted(statuses.items())}")
    assert tried >= EXAMPLES
