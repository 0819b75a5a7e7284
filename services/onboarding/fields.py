"""The concrete fields of a form page, each with a stable path: what every front-end renders.

A page's questions are not all one widget each: ``services`` is a service picker plus one units
field per chosen service, ``devices`` is one device picker per chosen service, and
``billing_contracts`` is three slots of four fields. ``page_fields`` lists them for the answers so
far; ``services.onboarding.collect`` turns raw values keyed by the same paths back into answers.

Paths are the one naming scheme of fields, issues and widget ids (Slack block ids, Adaptive Card
input ids):

    company                      a plain question: its id
    services.<service id>        the units of one chosen service
    devices.<service id>         the devices of one chosen service
    billing_contracts.<n>.<sub>  a sub-question of slot n of a group
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from services.onboarding import form
from services.onboarding.form import Kind, Question
from services.onboarding.options import Option

SEP = "."
# Long or per-company lists are searched as the user types; short tenant lists are shown whole.
SEARCHED = frozenset({"companies", "resources", "contacts", "team_members", "devices"})
MIN_QUERY = {"companies": 1}  # 1,000s of companies: ask for a letter before listing any
UNITS = (0, 100_000)  # a units field takes a whole number in this range
UNITS_LABEL = "form.units_for"
DEVICES_LABEL = "form.devices_for"

Lists = Mapping[str, Sequence[Option]]  # option source -> its options (loaded by the caller)


@dataclass(frozen=True)
class Field:
    """One input to render. ``value`` is the current answer in the field's own shape: an id, a
    list of ids, text, an ISO date, a bool or a number."""

    path: str
    question: str  # the form question this field answers (a group's id for its slots)
    kind: Kind  # never a compound kind: QUANTITIES etc. are flattened into these
    label_key: str
    label_params: dict[str, Any] = field(default_factory=dict)
    help_key: str | None = None
    source: str | None = None
    required: bool = False
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[str, ...] = ()  # fixed values of a CHOICE; labels are ``choice_key(value)``
    value: Any = None
    dependent: bool = False  # answering it changes the page: redraw (Slack: dispatch_action)
    searched: bool = False  # options come by typeahead, not all at once
    min_query: int = 0
    options: tuple[Option, ...] = ()  # every option, for lists shown whole
    selected: tuple[Option, ...] = ()  # the current value(s) with their labels
    group: str | None = None  # for the slots of a group question: its id, and the slot number
    slot: int | None = None

    def choice_key(self, value: str) -> str:
        return f"choice.{self.label_key.removeprefix('q.').removesuffix('.label')}.{value}"


def path_of(*parts: object) -> str:
    return SEP.join(str(p) for p in parts)


def question_of(path: str) -> Question | None:
    """The question (or group sub-question) a path belongs to."""
    head, *rest = path.split(SEP)
    question = form.QUESTIONS.get(head)
    if question is None or question.kind != Kind.GROUP or len(rest) != 2:
        return question
    return next((sub for sub in question.fields if sub.id == rest[1]), None)


def source_of(path: str) -> str | None:
    """The option source of the field at ``path`` (typeahead asks for it by path)."""
    head = path.split(SEP)[0]
    if head == "devices":
        return "devices"
    question = question_of(path)
    return question.source if question else None


def shown_questions(page_id: str, answers: Mapping[str, Any]) -> list[Question]:
    return [q for q in form.page(page_id).questions if q.shown(answers)]


def sources_for(page_id: str, answers: Mapping[str, Any]) -> set[str]:
    """The option lists a page needs: lists shown whole, and searched ones only to label answers."""
    needed: set[str] = set()
    for q in shown_questions(page_id, answers):
        for item in (q, *q.fields):
            if item.source and (item.source not in SEARCHED or answers.get(q.id)):
                needed.add(item.source)
        if q.kind in (Kind.QUANTITIES, Kind.ASSIGNMENTS):
            needed.add("services")
    return needed


def page_fields(
    page_id: str, answers: Mapping[str, Any], lists: Lists | None = None
) -> list[Field]:
    """The fields of a page, in order, for the answers so far. ``lists`` (from ``sources_for``)
    fill in options, labels of chosen values and service names; without them paths and values
    are still exact."""
    lists = lists or {}
    out: list[Field] = []
    for q in shown_questions(page_id, answers):
        if q.needs_options and q.source and q.source in lists and not lists[q.source]:
            continue  # its list was loaded and is empty (no valid playbooks): nothing to answer
        value = answers.get(q.id)
        if q.kind == Kind.QUANTITIES:
            out += _quantities(q, value or {}, lists)
        elif q.kind == Kind.ASSIGNMENTS:
            out += _assignments(q, value or {}, answers.get("services") or {}, lists)
        elif q.kind == Kind.GROUP:
            out += _group(q, list(value or []), lists)
        else:
            out.append(_plain(q, q.id, value, lists, required=q.required, dependent=q.dependent))
    return out


def _plain(
    q: Question,
    path: str,
    value: Any,
    lists: Lists,
    *,
    kind: Kind | None = None,
    qid: str | None = None,
    required: bool = False,
    dependent: bool = False,
    **extra: Any,
) -> Field:
    qid = qid or q.id
    source = q.source
    searched = source in SEARCHED
    options = () if searched or not source else tuple(lists.get(source, ()))
    return Field(
        path=path,
        question=path.split(SEP)[0],
        kind=kind or q.kind,
        label_key=f"q.{qid}.label",
        help_key=f"q.{qid}.help",
        source=source,
        required=required,
        max_length=q.max_length,
        choices=q.choices,
        value=value,
        dependent=dependent,
        searched=searched,
        min_query=MIN_QUERY.get(source or "", 0),
        options=options,
        selected=_selected(lists, source, value),
        **extra,
    )


def _quantities(q: Question, units: Mapping[str, Any], lists: Lists) -> list[Field]:
    names = _names(lists, "services")
    picker = _plain(q, q.id, [_id(k) for k in units], lists, kind=Kind.MULTI_SELECT,
                    dependent=True)  # fmt: skip
    fields = [picker]
    for service_id, count in units.items():
        fields.append(
            Field(
                path=path_of(q.id, service_id),
                question=q.id,
                kind=Kind.NUMBER,
                label_key=UNITS_LABEL,
                label_params={"service": names.get(str(service_id), str(service_id))},
                required=True,
                min_value=UNITS[0],
                max_value=UNITS[1],
                value=count,
            )
        )
    return fields


def _assignments(
    q: Question, devices: Mapping[str, Any], services: Mapping[str, Any], lists: Lists
) -> list[Field]:
    names = _names(lists, "services")
    fields = []
    for service_id in services:
        chosen = devices.get(str(service_id)) or []
        picker = _plain(q, path_of(q.id, service_id), list(chosen), lists, kind=Kind.MULTI_SELECT)
        name = names.get(str(service_id), str(service_id))
        fields.append(replace(picker, label_key=DEVICES_LABEL, label_params={"service": name}))
    return fields


def _group(q: Question, items: list[Any], lists: Lists) -> list[Field]:
    fields = []
    for slot in range(q.max_items):
        item = items[slot] if slot < len(items) and isinstance(items[slot], Mapping) else {}
        for sub in q.fields:
            fields.append(
                _plain(sub, path_of(q.id, slot, sub.id), item.get(sub.id), lists,
                       qid=path_of(q.id, sub.id), group=q.id, slot=slot)
            )  # fmt: skip
    return fields


def _names(lists: Lists, source: str) -> dict[str, str]:
    return {str(o.value): o.label for o in lists.get(source, ())}


def _selected(lists: Lists, source: str | None, value: Any) -> tuple[Option, ...]:
    if not source or value in (None, "", []):
        return ()
    wanted = [str(v) for v in (value if isinstance(value, list) else [value])]
    by_value = {str(o.value): o for o in lists.get(source, ())}
    return tuple(by_value[v] for v in wanted if v in by_value)


def _id(value: Any) -> Any:
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else value


def place(path: str, paths: Sequence[str]) -> str | None:
    """The field an issue at ``path`` is shown beside: the field itself, else the first field of
    its question (``devices`` -> ``devices.7``); ``None`` when the page has no such field."""
    if path in paths:
        return path
    prefix = path + SEP
    return next((p for p in paths if p.startswith(prefix)), None)
