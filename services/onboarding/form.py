"""The onboarding form, defined once for every front-end.

Each question has an id (also the answer key, the Slack block_id and the field of
``OnboardingRequest``), a page, a kind, an option source, whether it is required, and when it is
shown. Labels and help texts are i18n keys: ``q.<id>.label`` and ``q.<id>.help``; fixed choices are
``choice.<id>.<value>``; pages are ``page.<id>``. Slack renders pages as modal views, Teams as
Adaptive Card dialogs, the terminal as prompts; all parse back into the same answers dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    SELECT = "select"  # one value from an option source
    MULTI_SELECT = "multi_select"
    CHOICE = "choice"  # one of a few fixed values (radio buttons)
    TOGGLE = "toggle"
    DATE = "date"
    NUMBER = "number"
    QUANTITIES = "quantities"  # {option value: number}, e.g. units per service
    ASSIGNMENTS = "assignments"  # {option value: [option values]}, e.g. devices per service
    GROUP = "group"  # a repeated set of sub-questions, e.g. billing contracts


@dataclass(frozen=True)
class When:
    """Show a question or page only when another answer has a value (or any truthy value)."""

    question: str
    equals: Any = None

    def holds(self, answers: Mapping[str, Any]) -> bool:
        value = answers.get(self.question)
        return bool(value) if self.equals is None else value == self.equals


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    source: str | None = None
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    shown_if: When | None = None
    default: Any = None
    fields: tuple[Question, ...] = ()
    max_items: int = 1
    dependent: bool = False  # other questions' options or visibility change with this answer
    named: bool = False  # its options' values are names (a playbook's), not Autotask ids
    needs_options: bool = False  # not shown when its option list is empty (no playbooks)

    @property
    def label_key(self) -> str:
        return f"q.{self.id}.label"

    @property
    def help_key(self) -> str:
        return f"q.{self.id}.help"

    def shown(self, answers: Mapping[str, Any]) -> bool:
        return self.shown_if is None or self.shown_if.holds(answers)


@dataclass(frozen=True)
class Page:
    id: str
    questions: tuple[Question, ...]
    shown_if: When | None = None

    @property
    def title_key(self) -> str:
        return f"page.{self.id}"

    def shown(self, answers: Mapping[str, Any]) -> bool:
        return self.shown_if is None or self.shown_if.holds(answers)


MANAGED = When("client_type", "managed")
BREAK_FIX = When("client_type", "break_fix")

PAGES: tuple[Page, ...] = (
    Page("client", (
        Question("company", Kind.SELECT, "companies", required=True, dependent=True),
        Question("playbook", Kind.SELECT, "playbooks", dependent=True, named=True, needs_options=True),
        Question("client_type", Kind.CHOICE, choices=("managed", "break_fix"), required=True, dependent=True),
        Question("convert_to_customer", Kind.TOGGLE, default=True),
    )),
    Page("people", (
        Question("team_add", Kind.MULTI_SELECT, "resources"),
        Question("team_remove", Kind.MULTI_SELECT, "team_members"),
        Question("primary_contact", Kind.SELECT, "contacts"),
        Question("portal_contacts", Kind.MULTI_SELECT, "contacts", dependent=True),
        Question("portal_security_level", Kind.SELECT, "picklist:portal_security_level",
                 shown_if=When("portal_contacts")),
        Question("portal_date_format", Kind.SELECT, "picklist:portal_date_format", shown_if=When("portal_contacts")),
        Question("portal_number_format", Kind.SELECT, "picklist:portal_number_format", shown_if=When("portal_contacts")),
        Question("portal_time_format", Kind.SELECT, "picklist:portal_time_format", shown_if=When("portal_contacts")),
        Question("taskfire", Kind.TOGGLE, default=False),
    )),
    Page("organization", (
        Question("parent_company", Kind.SELECT, "companies", dependent=True),
        Question("child_companies", Kind.MULTI_SELECT, "companies"),
        Question("bill_to_parent", Kind.TOGGLE, default=False),
    )),
    Page("billing", (
        Question("billing_admins", Kind.MULTI_SELECT, "resources"),
        Question("invoice_template", Kind.SELECT, "invoice_templates"),
        Question("tax_region", Kind.SELECT, "tax_regions"),
        Question("tax_exempt", Kind.TOGGLE, default=False),
        Question("tax_id", Kind.TEXT, max_length=50),
        Question("bill_to", Kind.CHOICE, choices=("company", "parent", "other", "later"), default="later",
                 dependent=True),
        Question("billing_address1", Kind.TEXT, max_length=150, shown_if=When("bill_to", "other")),
        Question("billing_address2", Kind.TEXT, max_length=150, shown_if=When("bill_to", "other")),
        Question("billing_city", Kind.TEXT, max_length=50, shown_if=When("bill_to", "other")),
        Question("billing_state", Kind.TEXT, max_length=50, shown_if=When("bill_to", "other")),
        Question("billing_zip", Kind.TEXT, max_length=10, shown_if=When("bill_to", "other")),
        Question("billing_country", Kind.SELECT, "countries", shown_if=When("bill_to", "other")),
        Question("attention_contact", Kind.SELECT, "contacts"),
    )),
    Page("managed", (
        Question("sla", Kind.SELECT, "picklist:sla", required=True),
        Question("contract_name", Kind.TEXT, required=True, max_length=100),
        Question("contract_start", Kind.DATE, required=True),
        Question("contract_end", Kind.DATE, required=True),
        Question("contract_period", Kind.SELECT, "picklist:contract_period"),
        Question("services", Kind.QUANTITIES, "services", dependent=True),
        Question("devices", Kind.ASSIGNMENTS, "devices"),
    ), shown_if=MANAGED),
    Page("break_fix", (
        Question("bf_sla", Kind.SELECT, "picklist:sla"),
        Question("billing_contracts", Kind.GROUP, max_items=3, fields=(
            Question("type", Kind.SELECT, "picklist:contract_type", required=True),
            Question("name", Kind.TEXT, required=True, max_length=100),
            Question("start", Kind.DATE, required=True),
            Question("end", Kind.DATE, required=True),
        )),
    ), shown_if=BREAK_FIX),
)  # fmt: skip

# The answers key of the record of what a playbook filled (``services.onboarding.playbooks``):
# kept with the answers, never a question.
PREFILL = "_playbook"

QUESTIONS: dict[str, Question] = {q.id: q for page in PAGES for q in page.questions}
PAGE_OF: dict[str, str] = {q.id: page.id for page in PAGES for q in page.questions}


def visible_pages(answers: Mapping[str, Any]) -> list[Page]:
    return [page for page in PAGES if page.shown(answers)]


def next_page(current: str, answers: Mapping[str, Any]) -> str | None:
    ids = [p.id for p in visible_pages(answers)]
    at = ids.index(current) if current in ids else -1
    return ids[at + 1] if at + 1 < len(ids) else None


def previous_page(current: str, answers: Mapping[str, Any]) -> str | None:
    ids = [p.id for p in visible_pages(answers)]
    at = ids.index(current) if current in ids else 0
    return ids[at - 1] if at > 0 else None


def page(page_id: str) -> Page:
    return next(p for p in PAGES if p.id == page_id)


def question_label(path: str, t: Any) -> str:
    """The label of the question an issue path (``devices.7``, ``billing_contracts.0.end``) is on."""
    question = QUESTIONS.get(path.split(".")[0])
    return t(question.label_key) if question else path


def all_i18n_keys() -> set[str]:
    """Every catalogue key the form needs; the catalogue test checks both languages have them."""
    keys = {p.title_key for p in PAGES}
    for q in QUESTIONS.values():
        for item in (q, *q.fields):
            qid = item.id if item is q else f"{q.id}.{item.id}"
            keys |= {f"q.{qid}.label", f"q.{qid}.help"}
            keys |= {f"choice.{qid}.{c}" for c in item.choices}
    return keys


def defaults() -> dict[str, Any]:
    return {q.id: q.default for q in QUESTIONS.values() if q.default is not None}


def shown_ids(answers: Mapping[str, Any]) -> set[str]:
    """The questions the answers so far show (on shown pages, with their own condition met)."""
    return {q.id for p in visible_pages(answers) for q in p.questions if q.shown(answers)}


def visible_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Drop answers to questions the user can no longer see (e.g. break/fix after choosing managed)."""
    shown = shown_ids(answers)
    return {k: v for k, v in answers.items() if k in shown}


@dataclass
class FormState:
    """A front-end's position in the form, with everything answered so far."""

    page: str = "client"
    answers: dict[str, Any] = field(default_factory=defaults)
