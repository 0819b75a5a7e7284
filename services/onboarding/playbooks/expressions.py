"""The two kinds of value a playbook computes per client: text templates and relative dates.

Text: ``"{company} - Managed Services"``, ``"{company} - T&M {start:%Y}"``. Placeholders are
``{company}`` (the client's name), ``{today}``, and in a contract's name ``{start}`` and ``{end}``
(that contract's dates); a date takes a ``strftime`` format after a colon. Nothing else is
expanded: no attribute or index access, no conversions.

Dates: an ISO date, or an anchor with shifts: ``today``, ``first of this month``,
``first of next month``, and in an end date ``start`` (the same contract's start), followed by any
number of ``+ N`` / ``- N`` days, weeks, months or years: ``first of next month``,
``start + 1 year - 1 day``. Month arithmetic is ``dateutil.relativedelta``'s (Jan 31 + 1 month is
Feb 28).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

TEXT_PLACEHOLDERS = ("company", "today")
CONTRACT_PLACEHOLDERS = ("company", "today", "start", "end")
SAMPLE = {"company": "Example Client", "today": date(2027, 1, 15), "start": date(2027, 2, 1),
          "end": date(2028, 1, 31)}  # fmt: skip

ANCHORS = ("today", "first of this month", "first of next month", "start")
_ANCHOR = re.compile(r"\s*(today|first of this month|first of next month|start)\s*", re.IGNORECASE)
_SHIFT = re.compile(r"\s*([+-])\s*([0-9]{1,4})\s*(day|week|month|year)s?\s*", re.IGNORECASE)


class TemplateError(ValueError):
    """A template a playbook cannot use: ``name`` is the unknown placeholder, if that is why."""

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


def placeholders(template: str) -> list[str]:
    """The placeholders of a template; raises ``TemplateError`` for broken braces."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(str(exc)) from None
    names = []
    for _, name, _, conversion in parsed:
        if name is None:
            continue
        if conversion is not None or not name:
            raise TemplateError(f"{{{name}!{conversion}}}" if conversion else "{}", name or "")
        names.append(name)
    return names


DATES = ("today", "start", "end")


def check_template(template: str, allowed: tuple[str, ...]) -> None:
    """Raise ``TemplateError`` unless every placeholder is allowed and formats. Only dates take a
    format (``{company:>999999999}`` would pad a name to a gigabyte)."""
    for name in placeholders(template):
        if name not in allowed:
            raise TemplateError(f"unknown placeholder {{{name}}}", name)
    for _, placeholder, spec, _ in string.Formatter().parse(template):
        if placeholder and spec and placeholder not in DATES:
            raise TemplateError(f"{{{placeholder}}} takes no format")
    render(template, SAMPLE)


def render(template: str, values: Mapping[str, Any]) -> str:
    """Only known names reach ``format``: ``{company.__class__}`` never gets this far."""
    names = placeholders(template)
    if any(n not in values for n in names):
        raise TemplateError("a placeholder has no value here")
    try:
        return template.format_map({n: values[n] for n in names})
    except (ValueError, TypeError, KeyError, IndexError) as exc:  # e.g. {start:{x}}
        raise TemplateError(str(exc)) from None


@dataclass(frozen=True)
class DateRule:
    """A date as a playbook gives it: fixed, or an anchor moved by a ``relativedelta``."""

    anchor: str  # "fixed" or one of ANCHORS
    fixed: date | None = None
    shift: relativedelta = field(default_factory=relativedelta)

    @property
    def needs_start(self) -> bool:
        return self.anchor == "start"

    def on(self, today: date, start: date | None = None) -> date | None:
        """The date for a client onboarded ``today``; ``None`` when it needs a start not known."""
        if self.anchor == "fixed":
            return self.fixed
        if self.anchor == "start":
            return start + self.shift if start is not None else None
        base = today.replace(day=1) if self.anchor == "first of this month" else today
        if self.anchor == "first of next month":
            base = today + relativedelta(months=1, day=1)
        return base + self.shift


def parse_date(value: Any) -> DateRule:
    """A date answer of a playbook; raises ``ValueError`` when it is neither kind."""
    if isinstance(value, date):
        return DateRule("fixed", value)
    text = str(value).strip()
    try:
        return DateRule("fixed", date.fromisoformat(text))
    except ValueError:
        pass
    head = _ANCHOR.match(text)
    if head is None:
        raise ValueError(text)
    shift = relativedelta()
    at = head.end()
    while at < len(text):
        term = _SHIFT.match(text, at)
        if term is None:
            raise ValueError(text)
        n = int(term.group(2)) * (1 if term.group(1) == "+" else -1)
        unit = term.group(3).lower()
        shift += relativedelta(days=n if unit == "day" else 7 * n if unit == "week" else 0,
                               months=n if unit == "month" else 0,
                               years=n if unit == "year" else 0)  # fmt: skip
        at = term.end()
    return DateRule(head.group(1).lower(), shift=shift)
