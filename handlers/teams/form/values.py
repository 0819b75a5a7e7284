"""``task/submit`` data -> raw values keyed by field path, for the form to parse.

The data is the pressed button's own (``verb``, ``draft``) merged with every input's value, keyed
by the input id, which is the field path. Adaptive Cards send a multi-select as one comma-joined
string; only that is undone here. What a value means is the form's to decide
(``services.onboarding.collect``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.onboarding.fields import SEP, question_of
from services.onboarding.form import Kind

BUTTON_KEYS = frozenset({"verb", "draft", "msteams"})


def _multi(path: str) -> bool:
    question = question_of(path)
    if question is None:
        return False
    if question.kind == Kind.MULTI_SELECT:
        return True
    # the service picker of a units question, and a device picker of one service
    if question.kind == Kind.QUANTITIES:
        return path == question.id
    return question.kind == Kind.ASSIGNMENTS and SEP in path


def field_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key in BUTTON_KEYS:
            continue
        if _multi(key) and isinstance(raw, str):
            values[key] = [part for part in raw.split(",") if part.strip()]
        else:
            values[key] = raw
    return values


def draft_of(data: Mapping[str, Any]) -> str | None:
    draft = data.get("draft")
    return draft if isinstance(draft, str) and 0 < len(draft) <= 64 else None
