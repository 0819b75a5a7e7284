"""Slack view state -> raw values keyed by block id, which is the field path.

Only widgets are read here: what a value means (an id, a number, a date) is decided by the form
(``services.onboarding.collect``), for every front-end alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

State = Mapping[str, Mapping[str, Mapping[str, Any]]]


def _value(element: Mapping[str, Any]) -> Any:
    """The widget's value as Slack gives it; anything of another shape is handed on as it is,
    for the form to refuse by the question's kind (never a crash here)."""
    kind = element.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        return _option(element.get("selected_option"))
    if kind in ("multi_static_select", "multi_external_select"):
        options = element.get("selected_options") or []
        return [_option(o) for o in options] if isinstance(options, list) else options
    if kind == "checkboxes":
        return bool(element.get("selected_options"))
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "users_select":
        return element.get("selected_user")
    return element.get("value")


def _option(selected: Any) -> Any:
    if isinstance(selected, Mapping):
        return selected.get("value")
    return selected or None


def block_values(state: State) -> dict[str, Any]:
    """Every input's raw value by block id (one element per input block, as our views build)."""
    out: dict[str, Any] = {}
    for block_id, actions in state.items():
        for element in actions.values():
            if isinstance(element, Mapping):
                out[block_id] = _value(element)
    return out
