"""Raw field values (keyed by the paths of ``fields.py``) -> the form's answers, parsed by kind.

Front-ends hand over what their widgets hold: option values as strings, text as typed, dates as
``YYYY-MM-DD``, checkboxes as booleans or lists. Each value is parsed by its question's kind, never
by its look: a contract named ``2024`` stays text, an id must be ASCII digits, a number must be a
whole number within bounds. Anything else (``²``, ``①``, 5,000 digits, a list where one value
belongs) becomes an issue on the field's path, never an exception; the draft keeps what was valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from services.onboarding import form
from services.onboarding.fields import SEP, UNITS, path_of
from services.onboarding.form import Kind, Question
from services.onboarding.request import Issue

ID = re.compile(r"[0-9]{1,18}")  # ids of Autotask records: ASCII digits, within int64
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # a playbook's name (its file name)
WHOLE = re.compile(r"-?[0-9]{1,9}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_TEXT = 3000  # longer text is cut (Slack caps inputs well below; this guards the draft)
TRUE = frozenset({"true", "yes", "y", "1", "on", "si", "sí"})
FALSE = frozenset({"false", "no", "n", "0", "off", ""})


class _Invalid(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass
class Collected:
    """The rebuilt answers, the issues of values that could not be read, and where group items
    moved: an empty first slot and a filled second one become item 0 of the answers."""

    answers: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)  # answer path prefix -> field path prefix

    def on_fields(self, issue: Issue) -> Issue:
        """An issue of the rebuilt answers, on the path of the field the user typed into."""
        path = issue.question
        for answer_prefix, field_prefix in self.moved.items():
            if path == answer_prefix or path.startswith(answer_prefix + SEP):
                return replace(
                    issue, loc=tuple((field_prefix + path[len(answer_prefix) :]).split(SEP))
                )
        return issue


def collect(page_id: str, values: Mapping[str, Any], answers: Mapping[str, Any]) -> Collected:
    """Merge the values of one page's fields over the answers so far. A question whose fields are
    all absent from ``values`` keeps its answer; values of other pages' questions are ignored."""
    out = Collected(dict(answers))
    for q in form.page(page_id).questions:
        prefix = q.id + SEP
        if q.id not in values and not any(str(k).startswith(prefix) for k in values):
            continue
        if q.kind == Kind.QUANTITIES:
            out.answers[q.id] = _quantities(q, values, out)
        elif q.kind == Kind.ASSIGNMENTS:
            out.answers[q.id] = _assignments(q, values, out)
        elif q.kind == Kind.GROUP:
            out.answers[q.id] = _group(q, values, out)
        else:
            try:
                out.answers[q.id] = parse(q, values.get(q.id))
            except _Invalid as bad:
                out.issues.append(Issue((q.id,), bad.key, bad.params))
    return out


def parse(q: Question, raw: Any) -> Any:
    """One field's raw value as its kind's answer; raises ``_Invalid`` with the issue's key."""
    kind = q.kind
    if kind == Kind.TOGGLE:
        return _toggle(raw)
    if kind == Kind.MULTI_SELECT:
        items = raw if isinstance(raw, list | tuple) else ([] if _blank(raw) else [raw])
        return [_option_id(item) for item in items]
    if _blank(raw):
        return None
    if kind == Kind.SELECT:
        return _name(raw) if q.named else _option_id(raw)
    if kind == Kind.CHOICE:
        if isinstance(raw, str) and raw in q.choices:
            return raw
        raise _Invalid("errors.invalid_choice")
    if kind == Kind.DATE:
        return _date(raw)
    if kind == Kind.NUMBER:
        return _whole(raw, 0, UNITS[1])
    return _text(raw, q.max_length)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _option_id(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 10**18:
        return raw
    if isinstance(raw, str) and ID.fullmatch(raw.strip()):
        return int(raw.strip())
    raise _Invalid("errors.invalid_choice")


def _name(raw: Any) -> str:
    if isinstance(raw, str) and NAME.fullmatch(raw.strip()):
        return raw.strip()
    raise _Invalid("errors.invalid_choice")


def _whole(raw: Any, low: int, high: int) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and WHOLE.fullmatch(raw.strip()):
        number = int(raw.strip())
    else:
        raise _Invalid("errors.whole_number", min=low, max=high)
    if not low <= number <= high:
        raise _Invalid("errors.whole_number", min=low, max=high)
    return number


def _date(raw: Any) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, str) and ISO_DATE.fullmatch(raw.strip()):
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise _Invalid("errors.invalid_date")


def _text(raw: Any, max_length: int | None) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _Invalid("errors.invalid")
    text = str(raw).strip()[:MAX_TEXT]
    if max_length and len(text) > max_length:
        raise _Invalid("errors.too_long", max_length=max_length)
    return text


def _toggle(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None or isinstance(raw, list | tuple):
        return bool(raw)  # a checkbox group: checked when an option is selected
    if isinstance(raw, str) and raw.strip().casefold() in TRUE | FALSE:
        return raw.strip().casefold() in TRUE
    raise _Invalid("errors.invalid_choice")


def _quantities(q: Question, values: Mapping[str, Any], out: Collected) -> dict[str, int]:
    before = {str(k): v for k, v in (out.answers.get(q.id) or {}).items()}
    chosen: list[str] = list(before)
    if q.id in values:
        try:
            chosen = [
                str(i) for i in parse(Question(q.id, Kind.MULTI_SELECT, q.source), values[q.id])
            ]
        except _Invalid as bad:
            out.issues.append(Issue((q.id,), bad.key, bad.params))
    units: dict[str, int] = {}
    for service_id in dict.fromkeys(chosen):
        path = path_of(q.id, service_id)
        raw = values.get(path)
        kept = before.get(service_id)
        fallback = kept if isinstance(kept, int) and not isinstance(kept, bool) else 1
        if _blank(raw):
            units[service_id] = fallback  # just chosen: its units field is not on the page yet
            continue
        try:
            units[service_id] = _whole(raw, *UNITS)
        except _Invalid as bad:
            out.issues.append(Issue((q.id, service_id), bad.key, bad.params))
            units[service_id] = fallback
    return units


def _assignments(q: Question, values: Mapping[str, Any], out: Collected) -> dict[str, list[int]]:
    picker = Question(q.id, Kind.MULTI_SELECT, q.source)
    devices: dict[str, list[int]] = {}
    for key, raw in values.items():
        head, _, service_id = str(key).partition(SEP)
        if head != q.id or not ID.fullmatch(service_id):
            continue  # not a field we render: nothing to show an issue beside
        try:
            chosen = parse(picker, raw)
        except _Invalid as bad:
            out.issues.append(Issue((q.id, service_id), bad.key, bad.params))
            continue
        if chosen:
            devices[service_id] = chosen
    return devices


def _group(q: Question, values: Mapping[str, Any], out: Collected) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for slot in range(q.max_items):
        item: dict[str, Any] = {}
        for sub in q.fields:
            path = path_of(q.id, slot, sub.id)
            try:
                item[sub.id] = parse(sub, values.get(path))
            except _Invalid as bad:
                out.issues.append(Issue((q.id, str(slot), sub.id), bad.key, bad.params))
                item[sub.id] = None
        if all(_blank(v) for v in item.values()) and not _has_raw(q, slot, values):
            continue
        if len(items) != slot:
            out.moved[path_of(q.id, len(items))] = path_of(q.id, slot)
        items.append(item)
    return items


def _has_raw(q: Question, slot: int, values: Mapping[str, Any]) -> bool:
    """Something unreadable was typed in the slot: keep it, so its issue has an item to sit on."""
    return any(not _blank(values.get(path_of(q.id, slot, sub.id))) for sub in q.fields)
