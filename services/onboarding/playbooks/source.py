"""A playbook file: YAML in the answers-file vocabulary, read with its line numbers and checked
for shape before any tenant is asked.

The file name (without ``.yaml``) is the playbook's name; the file holds a ``title`` (text, or
``en:`` and ``es:``), the ``client_type`` and any answers of the form a client-type standard
fixes: labels and names as in an answers file, text templates, relative dates, and services with
fixed units or units ``per_device`` (of a device type) or ``per_user``. Answers that differ for
every client (the company, its contacts and devices) are refused. Every problem carries the file
and line (PyYAML's node marks), so an operator can go straight to it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from services.i18n import Translator
from services.onboarding import form
from services.onboarding.collect import NAME
from services.onboarding.form import PAGE_OF, QUESTIONS, Kind, Question
from services.onboarding.playbooks.expressions import (
    CONTRACT_PLACEHOLDERS,
    TEXT_PLACEHOLDERS,
    TemplateError,
    check_template,
    parse_date,
)

SUFFIXES = (".yaml", ".yml")
LOCALES = ("en", "es")
MAX_TITLE = 75  # what a chat select shows of an option (Slack: 75 characters)
CLIENT_TYPES = ("managed", "break_fix")
# Answers that differ for every client: a playbook is for any client, so it cannot give them.
PER_CLIENT = frozenset({"company", "playbook", "primary_contact", "portal_contacts",
                        "attention_contact", "team_remove", "devices", "child_companies"})  # fmt: skip
SERVICE_RULES = ("units", "per_device", "per_user", "attach")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """Why a playbook is not offered: where (file, line) and what (i18n key and parameters;
    ``labels`` are parameters given as i18n keys, translated when shown)."""

    file: str
    line: int | None
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def message(self, t: Translator) -> str:
        labels = {k: t(v, **self.params) for k, v in self.labels.items()}
        return t(self.key, **{**self.params, **labels})

    def text(self, t: Translator) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message(t)}"


@dataclass(frozen=True)
class ServiceSpec:
    """One service of a playbook, by name: fixed units, or counted per device type or per user."""

    name: str
    units: int | None = None
    per_device: tuple[str, ...] = ()  # device type labels
    per_user: bool = False
    attach: bool = True  # per_device: also tie those devices to the service


@dataclass(frozen=True)
class PlaybookFile:
    name: str
    path: Path
    titles: dict[str, str]
    client_type: str
    answers: dict[str, Any]  # question id -> the value as written (labels), services apart
    services: tuple[ServiceSpec, ...]
    lines: dict[Path_, int]

    @property
    def shown(self) -> str:
        return self.path.name

    def line(self, *at: str | int) -> int | None:
        """The line of a key (or list item), else of the nearest key around it."""
        path: Path_ = tuple(at)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def problem(self, at: Path_, key: str, **params: Any) -> Problem:
        return Problem(self.shown, self.line(*at), key, {"at": dotted(at), **params})


def dotted(at: Path_) -> str:
    return ".".join(str(p) for p in at)


def playbook_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def read_playbook(path: Path) -> tuple[PlaybookFile | None, list[Problem]]:
    """The file checked for shape, with its problems; the answers that passed are kept, so the
    tenant check can report theirs too (``None`` when the file is not a YAML mapping)."""
    shown = path.name
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        return None, [Problem(shown, None, "playbook.problem.encoding")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(shown, mark.line + 1 if mark else None, "playbook.problem.yaml",
                              {"error": reason})]  # fmt: skip
    if not isinstance(data, dict) or node is None:
        return None, [Problem(shown, 1, "playbook.problem.not_mapping")]
    lines, twice = _lines(node)
    problems = [Problem(shown, line, "playbook.problem.duplicate_key",
                        {"at": dotted(at), "other": first}) for at, first, line in twice]  # fmt: skip
    if not NAME.fullmatch(path.stem):
        problems.append(Problem(shown, None, "playbook.problem.file_name"))
    checker = _Checker(PlaybookFile(path.stem, path, {}, "", {}, (), lines))
    playbook = checker.check({str(k): v for k, v in data.items()})
    problems += checker.problems
    return playbook, problems


def _lines(root: yaml.Node) -> tuple[dict[Path_, int], list[tuple[Path_, int, int]]]:
    """Line (1-based) of every key and list item, and keys given twice (PyYAML keeps the last)."""
    lines: dict[Path_, int] = {}
    twice: list[tuple[Path_, int, int]] = []

    def walk(node: yaml.Node, at: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                path = (*at, str(key_node.value))
                line = key_node.start_mark.line + 1
                if path in lines:
                    twice.append((path, lines[path], line))
                lines[path] = line
                walk(value_node, path)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*at, i)] = item.start_mark.line + 1
                walk(item, (*at, i))

    walk(root, ())
    return lines, twice


class _Checker:
    def __init__(self, base: PlaybookFile) -> None:
        self.base = base
        self.problems: list[Problem] = []

    def bad(self, at: Path_, key: str, **params: Any) -> None:
        self.problems.append(self.base.problem(at, key, **params))

    def missing(self, key: str) -> None:
        """A required key that is not there: line 1, where one would add it."""
        self.problems.append(Problem(self.base.shown, 1, "playbook.problem.missing", {"at": key}))

    def expected(self, at: Path_, what: str) -> None:
        self.problems.append(
            Problem(self.base.shown, self.base.line(*at), "playbook.problem.type",
                    {"at": dotted(at)}, {"expected": f"playbook.expected.{what}"})
        )  # fmt: skip

    def check(self, data: dict[str, Any]) -> PlaybookFile:
        titles = self.titles(data.get("title"))
        client_type = data.get("client_type")
        if client_type is None:
            self.missing("client_type")
        elif client_type not in CLIENT_TYPES:
            self.expected(("client_type",), "client_type")
        known = ("title", *QUESTIONS)
        answers: dict[str, Any] = {}
        services: tuple[ServiceSpec, ...] = ()
        for key, value in data.items():
            if key == "title":
                continue
            if key == "client_type":
                if client_type in CLIENT_TYPES:
                    answers[key] = client_type
                continue
            if key not in QUESTIONS:
                closest = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
                self.bad((key,), "playbook.problem.unknown_key", closest=", ".join(closest) or "-")
                continue
            if key in PER_CLIENT:
                self.bad((key,), "playbook.problem.per_client")
                continue
            if isinstance(client_type, str) and not form.page(PAGE_OF[key]).shown(
                {"client_type": client_type}
            ):
                self.bad((key,), "playbook.problem.client_type_question",
                         client_type=client_type)  # fmt: skip
                continue
            if value is None:
                continue  # "tax_id:" with nothing: the playbook leaves it to the person
            question = QUESTIONS[key]
            if question.kind == Kind.QUANTITIES:
                services = self.services(value)
            elif self.value(question, (key,), value):
                answers[key] = value.isoformat() if isinstance(value, date) else value
        base = self.base
        return PlaybookFile(base.name, base.path, titles, str(client_type), answers, services,
                            base.lines)  # fmt: skip

    def titles(self, raw: Any) -> dict[str, str]:
        if raw is None:
            self.missing("title")
            return {}
        given = raw if isinstance(raw, dict) else {"en": raw}
        titles: dict[str, str] = {}
        for locale, text in given.items():
            if locale not in LOCALES or not isinstance(text, str | int) or isinstance(text, bool):
                self.expected(("title", str(locale)) if isinstance(raw, dict) else ("title",),
                              "title")  # fmt: skip
            elif not str(text).strip() or len(str(text).strip()) > MAX_TITLE:
                self.expected(("title", locale) if isinstance(raw, dict) else ("title",), "title")
            else:
                titles[locale] = str(text).strip()
        if given and "en" not in given:
            self.bad(("title",), "playbook.problem.title_en")
        return titles

    def value(self, q: Question, at: Path_, value: Any) -> bool:
        """Is ``value`` of the question's kind (labels are checked later, against the tenant)?"""
        kind = q.kind
        if kind == Kind.TOGGLE and not isinstance(value, bool):
            self.expected(at, "toggle")
        elif kind == Kind.CHOICE and value not in q.choices:
            self.problems.append(Problem(self.base.shown, self.base.line(*at),
                                         "playbook.problem.choice",
                                         {"at": dotted(at), "choices": ", ".join(q.choices)}))  # fmt: skip
        elif kind == Kind.SELECT and not _scalar(value):
            self.expected(at, "label")
        elif kind == Kind.MULTI_SELECT and not (
            _scalar(value) or (isinstance(value, list) and all(_scalar(v) for v in value))
        ):
            self.expected(at, "labels")
        elif kind == Kind.TEXT:
            return self.template(at, value, CONTRACT_PLACEHOLDERS if q.id == "contract_name"
                                 else TEXT_PLACEHOLDERS)  # fmt: skip
        elif kind == Kind.DATE:
            return self.date(at, value, start_allowed=q.id == "contract_end")
        elif kind == Kind.GROUP:
            return self.group(q, at, value)
        else:
            return True
        return False

    def template(self, at: Path_, value: Any, allowed: tuple[str, ...]) -> bool:
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.expected(at, "text")
            return False
        try:
            check_template(str(value), allowed)
        except TemplateError as exc:
            if exc.name:
                self.bad(at, "playbook.problem.placeholder", name=exc.name,
                         known=", ".join(f"{{{n}}}" for n in allowed))  # fmt: skip
            else:
                self.bad(at, "playbook.problem.template", error=str(exc))
            return False
        return True

    def date(self, at: Path_, value: Any, *, start_allowed: bool) -> bool:
        try:
            rule = parse_date(value)
        except ValueError:
            self.bad(at, "playbook.problem.date", value=str(value))
            return False
        if rule.needs_start and not start_allowed:
            self.bad(at, "playbook.problem.start_here")
            return False
        return True

    def group(self, q: Question, at: Path_, value: Any) -> bool:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.expected(at, "contracts")
            return False
        if len(value) > q.max_items:
            self.bad(at, "playbook.problem.too_many", max=q.max_items)
            return False
        ok = True
        subs = {sub.id: sub for sub in q.fields}
        for n, item in enumerate(value):
            for key in item:
                if str(key) not in subs:
                    closest = difflib.get_close_matches(str(key), subs, n=3, cutoff=0.5)
                    self.bad((*at, n, str(key)), "playbook.problem.unknown_key",
                             closest=", ".join(closest) or "-")  # fmt: skip
                    ok = False
            for sub in q.fields:
                where = (*at, n, sub.id)
                raw = item.get(sub.id)
                if raw is None:
                    self.bad((*at, n), "playbook.problem.missing_in", field=sub.id)
                    ok = False
                elif sub.kind == Kind.TEXT:
                    ok &= self.template(where, raw, CONTRACT_PLACEHOLDERS)
                elif sub.kind == Kind.DATE:
                    ok &= self.date(where, raw, start_allowed=sub.id == "end")
                elif not _scalar(raw):
                    self.expected(where, "label")
                    ok = False
        return ok

    def services(self, value: Any) -> tuple[ServiceSpec, ...]:
        at: Path_ = ("services",)
        if not isinstance(value, dict):
            self.expected(at, "services")
            return ()
        specs: list[ServiceSpec] = []
        attached: dict[str, str] = {}  # device type -> the service its devices are tied to
        for raw_name, rule in value.items():
            name = str(raw_name)
            where = (*at, name)
            spec = self.service(where, name, rule)
            if spec is None:
                continue
            if spec.attach:
                for kind in spec.per_device:
                    folded = kind.casefold()
                    if folded in attached:
                        self.bad(where, "playbook.problem.devices_twice", type=kind,
                                 other=attached[folded])  # fmt: skip
                    attached.setdefault(folded, name)
            specs.append(spec)
        return tuple(specs)

    def service(self, at: Path_, name: str, rule: Any) -> ServiceSpec | None:
        if _units(rule):
            return ServiceSpec(name, units=int(rule))
        if not isinstance(rule, Mapping):
            self.expected(at, "service")
            return None
        unknown = [str(k) for k in rule if str(k) not in SERVICE_RULES]
        given = [k for k in ("units", "per_device", "per_user") if k in rule]
        if unknown or len(given) != 1:
            self.expected((*at, unknown[0]) if unknown else at, "service")
            return None
        attach = rule.get("attach", True)
        if not isinstance(attach, bool):
            self.expected((*at, "attach"), "toggle")
            return None
        if "units" in rule:
            if not _units(rule["units"]):
                self.expected((*at, "units"), "units")
                return None
            return ServiceSpec(name, units=int(rule["units"]))
        if "per_user" in rule:
            if rule["per_user"] is not True:
                self.expected((*at, "per_user"), "per_user")
                return None
            return ServiceSpec(name, per_user=True)
        kinds = rule["per_device"]
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not kinds or not all(isinstance(k, str) and k.strip() for k in kinds):
            self.expected((*at, "per_device"), "device_types")
            return None
        return ServiceSpec(name, per_device=tuple(k.strip() for k in kinds), attach=attach)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _units(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000
