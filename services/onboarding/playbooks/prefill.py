"""A resolved playbook, the answers it gives one client, and the rule for changing playbooks.

Filling: text templates get the client's name and the contract's dates, relative dates count
from today (UTC), and services get their units: fixed, ``per_device`` (the company's active
configuration items of those device types, which are also tied to the service unless
``attach: false``) or ``per_user`` (the company's active contacts). A counted service with
nothing to count is left out, and the page says so. Until the company is chosen, what depends
on it waits.

Changing: a playbook fills an answer only while it is unanswered, at the form's default, or still
holding what the previous playbook filled. An answer the person gave or changed is never
overwritten: it is kept, and the page lists the answers kept where the new playbook differs.
Choosing no playbook clears what the previous one filled, except what the person changed. The
same rule re-fills when the company changes (names and units follow it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from services.i18n import Translator
from services.onboarding.form import PREFILL, QUESTIONS, Kind
from services.onboarding.options import Option, OptionSources
from services.onboarding.outcomes import Notice
from services.onboarding.playbooks.expressions import TemplateError, parse_date, render
from services.onboarding.playbooks.provenance import Record, same

NOT_KEPT = frozenset({"company", "playbook"})  # what the person chose, never the playbook's


@dataclass(frozen=True)
class ServiceRule:
    service: str  # the service's id, as the ``services`` answer keys it
    name: str
    units: int | None = None
    device_types: tuple[int, ...] = ()  # per device: configuration item types
    type_labels: tuple[str, ...] = ()
    per_user: bool = False
    attach: bool = True

    @property
    def counted(self) -> bool:
        return self.units is None


@dataclass(frozen=True)
class Client:
    """What a playbook needs to know of the client: its name and what units count."""

    company_id: int | None = None
    name: str | None = None
    contacts: int = 0
    devices: tuple[tuple[int, int | None], ...] = ()  # (configuration item id, its type)


@dataclass
class Filling:
    answers: dict[str, Any] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # questions that wait for the company


@dataclass(frozen=True)
class Playbook:
    name: str
    path: Path
    titles: dict[str, str]
    answers: dict[str, Any]  # this tenant's ids; text templates and date rules as written
    services: tuple[ServiceRule, ...] = ()

    def title(self, locale: str = "en") -> str:
        return self.titles.get(locale) or self.titles["en"]

    @property
    def client_type(self) -> str:
        return str(self.answers.get("client_type"))

    def option(self) -> Option:
        return Option(self.name, self.title(), tuple(self.titles.items()))

    def record(self, company: int | None, filled: dict[str, Any]) -> Record:
        return Record(self.name, dict(self.titles), company, filled)

    def fill(self, client: Client, today: date) -> Filling:
        out = Filling()
        given = self.answers
        start = _day(given.get("contract_start"), today)
        end = _day(given.get("contract_end"), today, start)
        for qid, value in given.items():
            kind = QUESTIONS[qid].kind
            if kind == Kind.DATE:
                day = start if qid == "contract_start" else end
                if day is not None:
                    out.answers[qid] = day.isoformat()
            elif kind == Kind.TEXT:
                dates = {"start": start, "end": end} if qid == "contract_name" else {}
                text = _text(value, client, today, dates)
                if text is None:
                    out.waiting.append(qid)
                else:
                    out.answers[qid] = text
            elif kind == Kind.GROUP:
                contracts = [_contract(item, client, today) for item in value]
                if any(c is None for c in contracts):
                    out.waiting.append(qid)
                else:
                    out.answers[qid] = contracts
            else:
                out.answers[qid] = value
        if self.services:
            self._services(client, out)
        return out

    def _services(self, client: Client, out: Filling) -> None:
        units: dict[str, int] = {}
        devices: dict[str, list[int]] = {}
        for rule in self.services:
            if rule.units is not None:
                units[rule.service] = rule.units
                continue
            if client.company_id is None:
                out.waiting.append("services")
                continue
            if rule.per_user:
                count = client.contacts
                ids: list[int] = []
            else:
                ids = [d for d, kind in client.devices if kind in rule.device_types]
                count = len(ids)
            if count == 0:
                key = "playbook.no_users" if rule.per_user else "playbook.no_devices"
                out.notices.append(Notice(key, {"service": rule.name, "company": client.name,
                                                "types": ", ".join(rule.type_labels)}))  # fmt: skip
                continue
            units[rule.service] = count
            if ids and rule.attach:
                devices[rule.service] = ids
        out.answers["services"] = units
        if devices:
            out.answers["devices"] = devices


def _day(value: Any, today: date, start: date | None = None) -> date | None:
    return parse_date(value).on(today, start) if value is not None else None


def _text(
    template: Any, client: Client, today: date, dates: Mapping[str, date | None]
) -> str | None:
    values: dict[str, Any] = {"today": today, **{k: v for k, v in dates.items() if v}}
    if client.name is not None:
        values["company"] = client.name
    try:
        return render(str(template), values).strip()
    except TemplateError:  # its company (or a date) is not known yet
        return None


def _contract(item: Mapping[str, Any], client: Client, today: date) -> dict[str, Any] | None:
    start = _day(item.get("start"), today)
    end = _day(item.get("end"), today, start)
    name = _text(item.get("name"), client, today, {"start": start, "end": end})
    if name is None or start is None or end is None:
        return None
    return {"type": item.get("type"), "name": name, "start": start.isoformat(),
            "end": end.isoformat()}  # fmt: skip


async def client_of(sources: OptionSources, company: Any, playbook: Playbook) -> Client:
    """The client as far as ``playbook`` needs it (contacts and devices only if it counts them)."""
    if not isinstance(company, int):
        return Client()
    name = sources.cached_company_name(company)
    if name is None:
        name = next((o.label for o in await sources.companies() if o.value == company), None)
    rules = playbook.services
    contacts = 0
    if any(r.per_user for r in rules):
        contacts = len(await sources.every("contacts", {"company": company}))
    devices: tuple[tuple[int, int | None], ...] = ()
    if any(r.device_types for r in rules):
        devices = tuple((d.id or 0, d.configuration_item_type)
                        for d in await sources.devices_of(company))  # fmt: skip
    return Client(company, name, contacts, devices)


def unanswered(qid: str, value: Any) -> bool:
    question = QUESTIONS.get(qid)
    default = question.default if question else None
    return value in (None, "", [], {}) or (default is not None and value == default)


def merge(
    answers: Mapping[str, Any], before: Mapping[str, Any], now: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The answers after changing from a playbook that filled ``before`` to one that fills
    ``now``, and the questions kept as the person answered them although ``now`` differs."""
    merged = dict(answers)
    kept: list[str] = []
    for qid in dict.fromkeys([*before, *now]):
        question = QUESTIONS.get(qid)
        if question is None or qid in NOT_KEPT:
            continue
        current = answers.get(qid)
        theirs = (
            not same(qid, current, before[qid]) if qid in before else not unanswered(qid, current)
        )
        if theirs:
            if qid in now and not same(qid, current, now[qid]):
                kept.append(qid)
        elif qid in now:
            merged[qid] = now[qid]
        elif question.default is not None:
            merged[qid] = question.default
        else:
            merged.pop(qid, None)
    return _devices_follow_services(merged, now), [q for q in QUESTIONS if q in kept]


def _devices_follow_services(answers: dict[str, Any], now: Mapping[str, Any]) -> dict[str, Any]:
    """Devices a playbook tied to a service the person took off stay off with it."""
    devices = answers.get("devices")
    if (
        isinstance(devices, Mapping)
        and "devices" in now
        and same("devices", devices, now["devices"])
    ):
        chosen = {str(k) for k in answers.get("services") or {}}
        answers["devices"] = {k: v for k, v in devices.items() if str(k) in chosen}
    return answers


Find = Callable[[str], Playbook | None]


async def refill(
    answers: Mapping[str, Any], find: Find, sources: OptionSources, today: date, locale: str
) -> tuple[dict[str, Any], list[Notice]]:
    """Fill from the chosen playbook when the playbook or the company changed since the last
    fill (``merge`` decides what may be overwritten); otherwise the answers as they are.
    Notices carry their parameters (titles, question labels) in ``locale``, the person's: a
    front-end only translates the key."""
    record = Record.of(answers)
    chosen = answers.get("playbook") or None
    company = answers.get("company") if isinstance(answers.get("company"), int) else None
    if record is None and chosen is None:
        return dict(answers), []
    if record is not None and (record.playbook, record.company) == (chosen, company):
        return dict(answers), []
    playbook = find(chosen) if chosen else None
    if chosen and playbook is None:  # became invalid or was removed: keep every answer
        return dict(answers), [Notice("playbook.unavailable", {"name": chosen})]
    filling = Filling()
    if playbook is not None:
        filling = playbook.fill(await client_of(sources, company, playbook), today)
    merged, kept = merge(answers, record.filled if record else {}, filling.answers)
    notices: list[Notice] = []
    if playbook is not None:
        merged[PREFILL] = playbook.record(company, filling.answers).to_json()
        if record is None or record.playbook != playbook.name:
            notices.append(Notice("playbook.filled", {"title": playbook.title(locale),
                                                      "count": len(filling.answers)}))  # fmt: skip
    else:
        merged.pop(PREFILL, None)
        if record is not None:
            notices.append(Notice("playbook.removed", {"title": record.title(locale)}))
    if kept:
        labels = ", ".join(Translator(locale)(QUESTIONS[q].label_key) for q in kept)
        notices.append(Notice("playbook.kept", {"questions": labels}))
    if filling.waiting and company is None:
        notices.append(Notice("playbook.needs_company"))
    return merged, [*notices, *filling.notices]


async def first_fill(
    given: Mapping[str, Any], explicit: Mapping[str, Any], find: Find, sources: OptionSources,
    today: date, locale: str,
) -> tuple[dict[str, Any], list[Notice]]:  # fmt: skip
    """A new draft with a playbook (an answers file's ``playbook:``, the terminal's
    ``--playbook``): the playbook's answers, then ``explicit`` answers over them."""
    chosen = str(given.get("playbook") or "")
    playbook = find(chosen)
    if playbook is None:
        return dict(given), [Notice("playbook.unavailable", {"name": chosen})]
    company = given.get("company") if isinstance(given.get("company"), int) else None
    filling = playbook.fill(await client_of(sources, company, playbook), today)
    merged = {**given, **filling.answers, **explicit}
    merged[PREFILL] = playbook.record(company, filling.answers).to_json()
    title = playbook.title(locale)
    notices = [Notice("playbook.filled", {"title": title, "count": len(filling.answers)})]
    return _devices_follow_services(merged, filling.answers), [*notices, *filling.notices]
