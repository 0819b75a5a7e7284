"""Slack view state -> the form's answers dict (the same one every front-end produces)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.onboarding import form
from services.onboarding.form import Kind, Question

State = Mapping[str, Mapping[str, Mapping[str, Any]]]


def _value(element: Mapping[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        selected = element.get("selected_option")
        return selected["value"] if selected else None
    if kind in ("multi_static_select", "multi_external_select"):
        return [o["value"] for o in element.get("selected_options") or []]
    if kind == "checkboxes":
        return bool(element.get("selected_options"))
    if kind == "datepicker":
        return element.get("selected_date")
    return element.get("value")


def _id(value: Any) -> Any:
    """Option values are strings; ids of Autotask records go back to ints."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, list):
        return [_id(v) for v in value]
    return value


def block_values(state: State) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block_id, actions in state.items():
        for element in actions.values():
            out[block_id] = _value(element)
    return out


def parse_page(page_id: str, state: State, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of one page, merged over what the draft already holds."""
    values = block_values(state)
    merged = dict(answers)
    for q in form.page(page_id).questions:
        if q.id in values or any(k.startswith(q.id + ".") for k in values):
            merged[q.id] = _parse_question(q, values, merged)
    return merged


def _parse_question(q: Question, values: Mapping[str, Any], answers: Mapping[str, Any]) -> Any:
    if q.kind == Kind.QUANTITIES:
        chosen = [str(v) for v in values.get(q.id) or []]
        units = {}
        for service_id in chosen:
            raw = values.get(f"{q.id}.{service_id}")
            units[service_id] = (
                int(raw) if raw not in (None, "") and str(raw).lstrip("-").isdigit() else 1
            )
        return units
    if q.kind == Kind.ASSIGNMENTS:
        prefix = q.id + "."
        return {k[len(prefix) :]: _id(v) for k, v in values.items() if k.startswith(prefix) and v}
    if q.kind == Kind.GROUP:
        items = []
        for i in range(q.max_items):
            item = {sub.id: _id(values.get(f"{q.id}.{i}.{sub.id}")) for sub in q.fields}
            if any(v not in (None, "") for v in item.values()):
                items.append(item)
        return items
    value = values.get(q.id)
    if q.kind == Kind.TOGGLE:
        return bool(value)
    if (
        q.kind in (Kind.SELECT, Kind.MULTI_SELECT)
        and q.source
        and not q.source.startswith("choice")
    ):
        return (
            _id(value) if value not in (None, "") else ([] if q.kind == Kind.MULTI_SELECT else None)
        )
    if value in ("",):
        return None
    return value
