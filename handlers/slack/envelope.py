"""The shape of an interaction payload, checked once before any listener reads it.

Listeners read ``body["user"]["id"]``, a modal's ``view["id"]`` and state, a click's action and
``trigger_id``. Slack always sends them, but a payload is only data: one with a key missing or of
the wrong type (a list where Slack sends an object) is answered 400 "malformed payload" here,
logged as a warning, and neither Bolt nor any listener reads it (``bot/slack_deliveries.py``), instead of a listener crashing half-way. What the
fields hold (ids, numbers, dates, text) is checked later, by each question's kind
(``services.onboarding.collect``), and shown beside the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _User(_Part):
    id: str


class _State(_Part):
    values: dict[str, dict[str, dict[str, Any]]] = {}


class _View(_Part):
    id: str
    callback_id: str = ""
    private_metadata: str = ""
    hash: str | None = None
    state: _State = _State()


class _Action(_Part):
    action_id: str
    value: str | None = None


class _ViewSubmission(_Part):
    user: _User
    view: _View


class _BlockActions(_Part):
    user: _User
    trigger_id: str
    actions: list[_Action] = Field(min_length=1)
    view: _View | None = None


class _BlockSuggestion(_Part):
    user: _User
    action_id: str
    value: str = ""
    view: _View | None = None


SHAPES: dict[str, type[_Part]] = {
    "view_submission": _ViewSubmission,
    "view_closed": _ViewSubmission,
    "block_actions": _BlockActions,
    "block_suggestion": _BlockSuggestion,
}


def malformed(body: Any) -> str | None:
    """Why an interaction of a known type does not have the shape Slack gives (``None``: it has,
    and the defaults listeners read are filled in). Checked before Bolt itself reads the payload:
    Bolt's own argument injection indexes it blindly too."""
    shape = SHAPES.get(str(body.get("type"))) if isinstance(body, dict) else None
    if shape is None:
        return None
    try:
        shape.model_validate(body)
    except ValidationError as exc:
        return ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:3])
    view = body.get("view")
    if isinstance(view, dict):  # what listeners read, where Slack may leave it out
        view.setdefault("state", {}).setdefault("values", {})
        view.setdefault("private_metadata", "")
    return None
