"""The validated answers of one onboarding.

Field names are the form's question ids, so every error's location is the question to show it
beside. Rules that need the tenant (contacts of the company, picklist ids, field lengths, parent
cycles) read a ``CompanyFacts`` passed as validation context. Every error carries an i18n key and
parameters instead of an English sentence, so each front-end shows it in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from services.i18n import Translator
from services.invoice_setup import request_reference
from services.onboarding.facts import CompanyFacts
from services.onboarding.form import PAGE_OF, visible_answers
from services.onboarding.playbooks.provenance import provenance


class BillingContract(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: int
    name: str
    start: date
    end: date


class OnboardingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    company: int
    client_type: Literal["managed", "break_fix"]
    convert_to_customer: bool = True
    # The playbook the answers started from (its name), for the onboarding's record; its title
    # and the questions answered otherwise are taken from the draft's pre-fill record.
    playbook: str | None = None
    playbook_title: str | None = None
    playbook_changed: list[str] = []

    team_add: list[int] = []
    team_remove: list[int] = []
    primary_contact: int | None = None
    portal_contacts: list[int] = []
    portal_security_level: int | None = None
    portal_date_format: int | None = None
    portal_number_format: int | None = None
    portal_time_format: int | None = None
    taskfire: bool = False

    parent_company: int | None = None
    child_companies: list[int] = []
    bill_to_parent: bool = False

    billing_admins: list[int] = []
    invoice_template: int | None = None
    tax_region: int | None = None
    tax_exempt: bool = False
    tax_id: str | None = None
    bill_to: Literal["company", "parent", "other", "later"] = "later"
    billing_address1: str | None = None
    billing_address2: str | None = None
    billing_city: str | None = None
    billing_state: str | None = None
    billing_zip: str | None = None
    billing_country: int | None = None
    attention_contact: int | None = None

    sla: int | None = None
    contract_name: str | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    contract_period: int | None = None
    services: dict[int, int] = {}
    devices: dict[int, list[int]] = {}

    bf_sla: int | None = None
    billing_contracts: list[BillingContract] = []

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unanswered(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @property
    def reference(self) -> str:
        """A short fingerprint of the answers: marks the note and to-do this onboarding writes."""
        return request_reference(self.model_dump(mode="json"))

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> OnboardingRequest:
        facts = (info.context or {}).get("facts")
        issues = _static_rules(self)
        if isinstance(facts, CompanyFacts):
            issues += _tenant_rules(self, facts)
        if issues:
            raise ValidationError.from_exception_data(
                "OnboardingRequest",
                [
                    InitErrorDetails(
                        type=PydanticCustomError(i.key, i.key, i.params),
                        loc=i.loc,
                        input=None,
                    )
                    for i in issues
                ],
            )
        return self


@dataclass(frozen=True)
class Issue:
    """One problem with one answer: where (question id path), what (i18n key), and details."""

    loc: tuple[str | int, ...]
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def question(self) -> str:
        return ".".join(str(part) for part in self.loc)

    @property
    def page(self) -> str:
        return PAGE_OF.get(str(self.loc[0]), "client") if self.loc else "client"

    def message(self, t: Translator) -> str:
        return t(self.key, **self.params)


_BUILTIN_KEYS = {
    "missing": "errors.required",
    "int_parsing": "errors.invalid_choice",
    "int_type": "errors.invalid_choice",
    "literal_error": "errors.invalid_choice",
    "bool_parsing": "errors.invalid_choice",
    "date_parsing": "errors.invalid_date",
    "date_from_datetime_parsing": "errors.invalid_date",
    "date_type": "errors.invalid_date",
    "string_too_long": "errors.too_long",
}


def validate(
    answers: Mapping[str, Any], facts: CompanyFacts | None = None
) -> tuple[OnboardingRequest | None, list[Issue]]:
    """Validate the visible answers; return the request, or the issues by question."""
    try:
        given = {k: v for k, v in visible_answers(answers).items() if v is not None}  # unanswered
        used = provenance(answers)
        if used is not None:
            given |= {"playbook_title": used.title(_EN), "playbook_changed": list(used.changed)}
        request = OnboardingRequest.model_validate(given, context={"facts": facts})
    except ValidationError as exc:
        return None, [_issue(e) for e in exc.errors()]
    return request, []


_EN = Translator("en")  # the onboarding's record in Autotask is written in English


def issues_by_question(issues: list[Issue], t: Translator) -> dict[str, str]:
    out: dict[str, str] = {}
    for issue in issues:
        out.setdefault(issue.question, issue.message(t))
    return out


def _issue(error: Any) -> Issue:
    kind = str(error["type"])
    loc = tuple(error["loc"])
    if kind.startswith("errors."):
        return Issue(loc, kind, dict(error.get("ctx") or {}))
    ctx = dict(error.get("ctx") or {})
    return Issue(loc, _BUILTIN_KEYS.get(kind, "errors.invalid"), ctx)


def _static_rules(r: OnboardingRequest) -> list[Issue]:
    issues: list[Issue] = []
    if r.client_type == "managed":
        for qid in ("sla", "contract_name", "contract_start", "contract_end"):
            if getattr(r, qid) is None:
                issues.append(Issue((qid,), "errors.required"))
        if r.contract_start and r.contract_end and r.contract_end <= r.contract_start:
            issues.append(Issue(("contract_end",), "errors.end_after_start"))
        for service_id, units in r.services.items():
            if units < 1:
                issues.append(Issue(("services", service_id), "errors.units_positive"))
        for service_id in r.devices:
            if service_id not in r.services:
                issues.append(Issue(("devices", service_id), "errors.device_service_not_chosen"))
    for i, contract in enumerate(r.billing_contracts):
        if contract.end <= contract.start:
            issues.append(Issue(("billing_contracts", i, "end"), "errors.end_after_start"))
    if r.bill_to == "other":
        for qid in ("billing_address1", "billing_city", "billing_zip", "billing_country"):
            if getattr(r, qid) is None:
                issues.append(Issue((qid,), "errors.required"))
    if set(r.team_add) & set(r.team_remove):
        issues.append(Issue(("team_remove",), "errors.team_add_and_remove"))
    if r.tax_exempt and r.tax_id:
        issues.append(Issue(("tax_id",), "errors.tax_id_with_exempt"))
    return issues


def _tenant_rules(r: OnboardingRequest, facts: CompanyFacts) -> list[Issue]:
    issues: list[Issue] = []
    lookups = facts.lookups
    contacts = facts.contacts
    company_name = facts.company.company_name or str(r.company)

    for qid in ("primary_contact", "attention_contact"):
        contact_id = getattr(r, qid)
        if contact_id is not None and contact_id not in contacts:
            issues.append(Issue((qid,), "errors.contact_not_in_company", {"company": company_name}))
    for contact_id in r.portal_contacts:
        contact = contacts.get(contact_id)
        if contact is None:
            issues.append(
                Issue(
                    ("portal_contacts",), "errors.contact_not_in_company", {"company": company_name}
                )
            )
        elif not (contact.email_address or "").strip():
            name = contact.full_name
            issues.append(
                Issue(("portal_contacts",), "errors.portal_needs_email", {"contact": name})
            )

    for qid in ("team_add", "billing_admins"):
        for resource_id in getattr(r, qid):
            if resource_id not in lookups.resources:
                issues.append(Issue((qid,), "errors.resource_not_active"))
                break

    picklist_questions = {
        "portal_security_level": "portal_security_level", "portal_date_format": "portal_date_format",
        "portal_number_format": "portal_number_format", "portal_time_format": "portal_time_format",
        "sla": "sla", "bf_sla": "sla", "contract_period": "contract_period",
    }  # fmt: skip
    for qid, name in picklist_questions.items():
        value = getattr(r, qid)
        if value is not None and not lookups.picklists[name].has(value):
            issues.append(Issue((qid,), "errors.invalid_choice"))
    for i, contract in enumerate(r.billing_contracts):
        if not lookups.picklists["contract_type"].has(contract.type):
            issues.append(Issue(("billing_contracts", i, "type"), "errors.invalid_choice"))
    level = r.portal_security_level
    label = lookups.picklists["portal_security_level"].label_for(level) or ""
    if (
        r.portal_contacts
        and "taskfire" in label.lower()
        and not (r.taskfire or facts.company.is_task_fire_active)
    ):
        issues.append(Issue(("portal_security_level",), "errors.taskfire_level_needs_taskfire"))

    for qid, known in (("invoice_template", lookups.invoice_templates), ("tax_region", lookups.tax_regions),
                       ("billing_country", lookups.countries)):  # fmt: skip
        value = getattr(r, qid)
        if value is not None and value not in known:
            issues.append(Issue((qid,), "errors.invalid_choice"))

    # Parent organization: no company may end up its own parent or ancestor.
    if r.parent_company is not None:
        if r.parent_company == r.company or r.parent_company in facts.descendants:
            issues.append(
                Issue(("parent_company",), "errors.parent_cycle", {"company": company_name})
            )
        elif r.parent_company not in facts.related:
            issues.append(Issue(("parent_company",), "errors.invalid_choice"))
    for child in r.child_companies:
        if child == r.company or child in facts.ancestors or child == r.parent_company:
            issues.append(
                Issue(("child_companies",), "errors.parent_cycle", {"company": company_name})
            )
            break
        if child not in facts.related:
            issues.append(Issue(("child_companies",), "errors.invalid_choice"))
            break
    has_parent = r.parent_company is not None or facts.company.parent_company_id is not None
    if (r.bill_to_parent or r.bill_to == "parent") and not has_parent:
        issues.append(
            Issue(("bill_to_parent" if r.bill_to_parent else "bill_to",), "errors.needs_parent")
        )

    # Text must fit Autotask's own field lengths (read from entityInformation/fields).
    lengths = {
        "tax_id": ("Companies", "taxID"), "billing_address1": ("Companies", "billingAddress1"),
        "billing_address2": ("Companies", "billingAddress2"), "billing_city": ("Companies", "billToCity"),
        "billing_state": ("Companies", "billToState"), "billing_zip": ("Companies", "billToZipCode"),
        "contract_name": ("Contracts", "contractName"),
    }  # fmt: skip
    for qid, (entity, api_field) in lengths.items():
        value = getattr(r, qid)
        limit = lookups.max_length(entity, api_field)
        if value and limit and len(value) > limit:
            issues.append(Issue((qid,), "errors.too_long", {"max_length": limit}))
    contract_limit = lookups.max_length("Contracts", "contractName")
    for i, contract in enumerate(r.billing_contracts):
        if contract_limit and len(contract.name) > contract_limit:
            issues.append(
                Issue(
                    ("billing_contracts", i, "name"),
                    "errors.too_long",
                    {"max_length": contract_limit},
                )
            )
    if r.attention_contact in contacts:
        contact = contacts[r.attention_contact]
        name = contact.full_name
        limit = lookups.max_length("Companies", "billToAttention")
        if limit and len(name) > limit:
            issues.append(Issue(("attention_contact",), "errors.too_long", {"max_length": limit}))

    for service_id in r.services:
        if service_id not in lookups.services:
            issues.append(Issue(("services", service_id), "errors.invalid_choice"))
    for service_id, device_ids in r.devices.items():
        for device_id in device_ids:
            if device_id not in facts.devices:
                issues.append(
                    Issue(
                        ("devices", service_id),
                        "errors.device_not_in_company",
                        {"company": company_name},
                    )
                )
                break
    assigned = [d for ids in r.devices.values() for d in ids]
    if len(assigned) != len(set(assigned)):
        issues.append(Issue(("devices",), "errors.device_twice"))
    return issues
