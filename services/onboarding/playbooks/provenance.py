"""Which answers came from a playbook: the record a pre-fill leaves in the answers, and what the
review and the pages say with it.

A pre-fill stores what it filled under ``form.PREFILL`` beside the answers (a draft is one JSON
document, so the record travels with it: saved after every page, read by every replica). An
answer "came from the playbook" while it still equals what the playbook filled; once the person
changes it, it is theirs. Values are compared by their question's kind: the order of a
multi-select does not matter, units are numbers, dates are ISO days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.i18n import Translator
from services.onboarding import form
from services.onboarding.fields import path_of
from services.onboarding.form import PREFILL, QUESTIONS, Kind


@dataclass(frozen=True)
class Record:
    """What a playbook filled in this draft, and for which company (units, names, devices and
    dates depend on it)."""

    playbook: str
    titles: dict[str, str]
    company: int | None
    filled: dict[str, Any]

    @classmethod
    def of(cls, answers: Mapping[str, Any]) -> Record | None:
        raw = answers.get(PREFILL)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("playbook"), str):
            return None
        company = raw.get("company")
        return cls(raw["playbook"], dict(raw.get("titles") or {}),
                   company if isinstance(company, int) else None,
                   dict(raw.get("filled") or {}))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {"playbook": self.playbook, "titles": self.titles, "company": self.company,
                "filled": self.filled}  # fmt: skip

    def title(self, locale: str = "en") -> str:
        return self.titles.get(locale) or self.titles.get("en") or self.playbook


def normal(qid: str, value: Any) -> Any:
    """A value in one canonical shape per kind, so equal answers compare equal."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    question = QUESTIONS.get(qid)
    kind = question.kind if question else None
    if kind == Kind.MULTI_SELECT:
        return sorted(str(v) for v in (value if isinstance(value, list) else [value]))
    if kind == Kind.QUANTITIES and isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if kind == Kind.ASSIGNMENTS and isinstance(value, Mapping):
        return {str(k): sorted(str(d) for d in v) for k, v in value.items() if v}
    if kind == Kind.GROUP and isinstance(value, list):
        return [
            {str(k): None if v is None else str(v)[:10] if k in ("start", "end") else str(v)
             for k, v in item.items()} if isinstance(item, Mapping) else item
            for item in value
        ]  # fmt: skip
    if kind in (Kind.SELECT, Kind.DATE):
        return str(value)[:10] if kind == Kind.DATE else str(value)
    return value


def same(qid: str, a: Any, b: Any) -> bool:
    return bool(normal(qid, a) == normal(qid, b))


@dataclass(frozen=True)
class Provenance:
    """For the review: the playbook used, the questions still holding its answers, and those
    it answered that the person changed (both in form order, visible questions only)."""

    playbook: str
    titles: tuple[tuple[str, str], ...]
    answered: tuple[str, ...]
    changed: tuple[str, ...]

    def title(self, t: Translator) -> str:
        given = dict(self.titles)
        return given.get(t.locale) or given.get("en") or self.playbook

    def lines(self, t: Translator) -> list[str]:
        """What a review shows, in the reader's language, one line each."""
        lines = [t("playbook.review.title", title=self.title(t))]
        if self.answered:
            lines.append(t("playbook.review.answered", questions=_labels(self.answered, t)))
        if self.changed:
            lines.append(t("playbook.review.changed", questions=_labels(self.changed, t)))
        return lines


def _labels(qids: tuple[str, ...], t: Translator) -> str:
    return ", ".join(t(QUESTIONS[q].label_key) for q in qids)


def provenance(answers: Mapping[str, Any]) -> Provenance | None:
    record = Record.of(answers)
    if record is None or answers.get("playbook") != record.playbook:
        return None
    shown = form.shown_ids(answers)
    answered: list[str] = []
    changed: list[str] = []
    for qid in QUESTIONS:
        if qid not in record.filled or qid not in shown:
            continue
        (answered if same(qid, answers.get(qid), record.filled[qid]) else changed).append(qid)
    return Provenance(record.playbook, tuple(record.titles.items()), tuple(answered),
                      tuple(changed))  # fmt: skip


def field_marks(answers: Mapping[str, Any]) -> frozenset[str]:
    """The field paths (``fields.py``) whose value is still the playbook's: a front-end may mark
    them ("from the playbook") so a person sees what they did not type."""
    record = Record.of(answers)
    if record is None or answers.get("playbook") != record.playbook:
        return frozenset()
    marks: set[str] = set()
    for qid, filled in record.filled.items():
        question = QUESTIONS.get(qid)
        if question is None:
            continue
        now, was = normal(qid, answers.get(qid)), normal(qid, filled)
        if question.kind in (Kind.QUANTITIES, Kind.ASSIGNMENTS):
            now, was = now or {}, was or {}
            if question.kind == Kind.QUANTITIES and set(now) == set(was) and now:
                marks.add(qid)
            marks |= {path_of(qid, k) for k, v in now.items() if was.get(k) == v}
        elif question.kind == Kind.GROUP:
            for slot, (item, given) in enumerate(zip(now or [], was or [], strict=False)):
                marks |= {path_of(qid, slot, k) for k, v in item.items() if given.get(k) == v}
        elif now == was and now is not None:
            marks.add(qid)
    return frozenset(marks)
