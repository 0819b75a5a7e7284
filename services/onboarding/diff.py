"""Field diffs for the plan: before -> after in display values, and picklist helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.autotask.reference import Picklist
from services.onboarding.steps import Change


def label(picklist: Picklist, value: int | None) -> str | None:
    return picklist.label_for(value) if value is not None else None


def diff(
    current: dict[str, Any], target: dict[str, Any], show: dict[str, Any] | None = None
) -> list[Change]:
    """Changes for the target fields that differ; ``show`` maps a field to display values."""
    changes = []
    for key, after in target.items():
        before = current.get(key)
        if same(before, after):
            continue
        fmt = (show or {}).get(key)
        changes.append(Change(key, fmt(before) if fmt else before, fmt(after) if fmt else after))
    return changes


def same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    if isinstance(a, datetime) and isinstance(b, str):
        return a.date().isoformat() == b[:10]
    return bool(a == b)


def preferred(picklist: Picklist, text: str) -> int:
    """The value labelled ``text``, else the tenant's default, else the first active value."""
    wanted = text.casefold()
    for value in picklist.active:
        if value.label.casefold() == wanted:
            return value.id
    default = picklist.default or (picklist.active[0] if picklist.active else None)
    if default is None:
        raise KeyError(f"{picklist.entity}.{picklist.field} has no active values")
    return default.id
