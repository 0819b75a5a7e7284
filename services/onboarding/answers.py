"""Answers written by people (YAML or CSV files): names, e-mails and labels -> this tenant's ids.

A file says ``tax_region: Texas State + Local 8.25%`` and ``team_add: [raj.iyer@msp.example]``;
the form's answers hold ids. Each value is matched against the question's option source, so an
unknown name becomes an ordinary validation issue on that question.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from services.onboarding.form import QUESTIONS, Kind, Question
from services.onboarding.options import Option, OptionSources
from services.onboarding.request import Issue

LIST_SEP, PAIR_SEP, ITEM_SEP = ";", "=", "|"


def read_answers_file(path: Path) -> list[dict[str, Any]]:
    """YAML: one client (a mapping). CSV: one client a row, lists separated by ';'."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        return [_from_csv_row(row) for row in csv.DictReader(io.StringIO(text))]
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected the answers of one client as a YAML mapping")
    return [data]


def _from_csv_row(row: Mapping[str, str | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in row.items():
        if key is None or raw is None or not raw.strip():
            continue
        question = QUESTIONS.get(key.strip())
        value = raw.strip()
        if question is None:
            out[key.strip()] = value
        elif question.kind == Kind.MULTI_SELECT:
            out[question.id] = [v.strip() for v in value.split(LIST_SEP) if v.strip()]
        elif question.kind == Kind.QUANTITIES:
            out[question.id] = dict(_pair(v) for v in value.split(LIST_SEP) if v.strip())
        elif question.kind == Kind.ASSIGNMENTS:
            pairs = (_pair(v) for v in value.split(LIST_SEP) if v.strip())
            out[question.id] = {k: [d.strip() for d in v.split(ITEM_SEP)] for k, v in pairs}
        elif question.kind == Kind.GROUP:
            names = [q.id for q in question.fields]
            out[question.id] = [dict(zip(names, (p.strip() for p in v.split(ITEM_SEP)), strict=False))
                                for v in value.split(LIST_SEP) if v.strip()]  # fmt: skip
        elif question.kind == Kind.TOGGLE:
            out[question.id] = value.lower() in ("1", "true", "yes", "y", "si", "sí")
        else:
            out[question.id] = value
    return out


def _pair(text: str) -> tuple[str, str]:
    key, _, value = text.partition(PAIR_SEP)
    return key.strip(), value.strip()


async def resolve(
    raw: Mapping[str, Any], sources: OptionSources
) -> tuple[dict[str, Any], list[Issue]]:
    """Turn human values into option ids; unknown values become issues on their question.

    An issue's ``misses`` parameter lists each value that matched nothing: where it sits inside
    the answer (``()``, a list index, a service name, a contract's index and field), the value,
    and the option source it was looked up in (playbooks report the closest labels from it)."""
    answers: dict[str, Any] = {}
    issues: list[Issue] = []
    company = raw.get("company")
    if company is not None:
        found = match(await sources.companies(), company)
        if found is None:
            issues.append(Issue(("company",), "errors.invalid_choice",
                                {"misses": [Miss((), company, "companies")]}))  # fmt: skip
            return answers, issues
        answers["company"] = found
    for key, value in raw.items():
        question = QUESTIONS.get(key)
        if key == "company" or question is None or value is None:
            continue
        misses: list[Miss] = []
        resolved = await _resolve_one(question, value, answers, sources, misses)
        if misses:
            issues.append(Issue((key,), "errors.invalid_choice", {"misses": misses}))
        else:
            answers[key] = resolved
    return answers, issues


@dataclass(frozen=True)
class Miss:
    """A value that matched no option: where in the answer, what, and in which option source."""

    at: tuple[str | int, ...]
    value: Any
    source: str


async def _resolve_one(
    q: Question, value: Any, answers: dict[str, Any], sources: OptionSources, misses: list[Miss]
) -> Any:
    async def pick(source: str, item: Any, *at: str | int) -> int | str:
        # every option, not the first MAX_OPTIONS a select shows: contact 1,000 of a company
        found = match(await sources.every(source, answers), item)
        if found is None:
            misses.append(Miss(at, item, source))
            return ""
        return found

    if q.kind in (Kind.SELECT,) and q.source:
        return await pick(q.source, value)
    if q.kind == Kind.MULTI_SELECT and q.source:
        items = value if isinstance(value, list) else [value]
        return [await pick(q.source, item, i) for i, item in enumerate(items)]
    if q.kind == Kind.QUANTITIES and q.source:
        return {str(await pick(q.source, k, str(k))): int(v) for k, v in dict(value).items()}
    if q.kind == Kind.ASSIGNMENTS and q.source:
        return {
            str(await pick("services", k, str(k))): [
                await pick(q.source, d, str(k), i)
                for i, d in enumerate(v if isinstance(v, list) else [v])
            ]
            for k, v in dict(value).items()
        }
    if q.kind == Kind.GROUP:
        out = []
        for n, item in enumerate(value if isinstance(value, list) else [value]):
            entry = dict(item)
            for sub in q.fields:
                if sub.source and sub.id in entry:
                    entry[sub.id] = await pick(sub.source, entry[sub.id], n, sub.id)
                elif isinstance(entry.get(sub.id), date):  # YAML reads 2027-01-01 as a date
                    entry[sub.id] = entry[sub.id].isoformat()
            out.append(entry)
        return out
    if isinstance(value, date):
        return value.isoformat()
    return value


def match(options: list[Option], wanted: Any) -> int | str | None:
    """The option ``wanted`` names (playbooks use it for device types too): by id (or name), by
    exact label in any language, by e-mail inside the label, or by the name before the e-mail."""
    text = str(wanted).strip()
    if isinstance(wanted, int) or text.isdigit():
        for option in options:
            if str(option.value) == text:
                return option.value
    folded = text.casefold()
    for option in options:
        if isinstance(option.value, str) and option.value.casefold() == folded:
            return option.value
        for label in (option.label, *(t for _, t in option.translations)):
            label = label.casefold()
            name = label.split(" <", 1)[0]
            if folded in (label, name, label.rsplit("<", 1)[-1].rstrip(">")):
                return option.value
    return None
