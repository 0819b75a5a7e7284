"""Each rule gives an error on the right question, in English and in Spanish."""

from __future__ import annotations

from typing import Any

import pytest

from services.autotask.sandbox import SandboxTransport, Tenant
from services.i18n import Translator
from services.onboarding.request import issues_by_question
from services.onboarding.runner import Runner
from tests.onboarding_support import company_id, contacts_of, managed_answers, resource_id


def _other_company_contact(tenant: Tenant) -> int:
    return int(contacts_of(tenant, company_id(tenant, "Lakeside Realty"))[0]["id"])


def _contact_without_email(tenant: Tenant) -> int:
    contact = contacts_of(tenant, company_id(tenant, "Acme Dental"))[2]
    tenant.table("Contacts")[contact["id"]]["emailAddress"] = None
    return int(contact["id"])


CASES: list[tuple[str, Any, str, str, str]] = [
    # (name, change to the answers, question, English text, Spanish text)
    (
        "missing company",
        lambda t: {"company": None},
        "company",
        "This answer is required",
        "Esta respuesta es obligatoria",
    ),
    (
        "contact of another company",
        lambda t: {"primary_contact": _other_company_contact(t)},
        "primary_contact",
        "does not belong to Acme Dental",
        "no pertenece a Acme Dental",
    ),
    (
        "attention of another company",
        lambda t: {"attention_contact": _other_company_contact(t)},
        "attention_contact",
        "does not belong to Acme Dental",
        "no pertenece a Acme Dental",
    ),
    (
        "portal user without e-mail",
        lambda t: {"portal_contacts": [_contact_without_email(t)]},
        "portal_contacts",
        "has no e-mail address",
        "no tiene correo electrónico",
    ),
    (
        "end before start",
        lambda t: {"contract_end": "2026-06-01"},
        "contract_end",
        "The end must be after the start",
        "El fin debe ser posterior al inicio",
    ),
    (
        "break/fix end before start",
        lambda t: {
            "client_type": "break_fix",
            "billing_contracts": [
                {"type": 1, "name": "x", "start": "2027-02-01", "end": "2027-01-01"}
            ],
        },
        "billing_contracts.0.end",
        "The end must be after the start",
        "El fin debe ser posterior al inicio",
    ),
    (
        "company as its own parent",
        lambda t: {"parent_company": company_id(t, "Acme Dental")},
        "parent_company",
        "cannot be its own parent",
        "no puede ser su propia organización matriz",
    ),
    (
        "child that is an ancestor",
        lambda t: {
            "company": company_id(t, "Harbor Group - Galveston"),
            "parent_company": None,
            "bill_to_parent": False,
            "primary_contact": None,
            "portal_contacts": [],
            "attention_contact": None,
            "devices": {},
            "child_companies": [company_id(t, "Harbor Group")],
        },
        "child_companies",
        "cannot be its own parent",
        "no puede ser su propia organización matriz",
    ),
    (
        "parent that is a descendant",
        lambda t: {
            "company": company_id(t, "Harbor Group"),
            "parent_company": company_id(t, "Harbor Group - Galveston"),
            "primary_contact": None,
            "portal_contacts": [],
            "attention_contact": None,
            "devices": {},
        },
        "parent_company",
        "cannot be its own parent",
        "no puede ser su propia organización matriz",
    ),
    (
        "text longer than Autotask allows",
        lambda t: {"tax_id": "9" * 51},
        "tax_id",
        "At most 50 characters",
        "Como máximo 50 caracteres",
    ),
    (
        "unknown picklist id",
        lambda t: {"sla": 99},
        "sla",
        "Choose one of the listed values",
        "Elija uno de los valores",
    ),
    (
        "unknown security level",
        lambda t: {"portal_security_level": 42},
        "portal_security_level",
        "Choose one of the listed values",
        "Elija uno de los valores",
    ),
    (
        "Taskfire level without Taskfire",
        lambda t: {"taskfire": False, "portal_security_level": 5},
        "portal_security_level",
        "need Taskfire enabled",
        "requieren Taskfire habilitado",
    ),
    (
        "API-only user on the team",
        lambda t: {"team_add": [29682885]},
        "team_add",
        "API-only users cannot be on a team",
        "los usuarios solo de API no pueden estar en un equipo",
    ),
    (
        "bill the parent without one",
        lambda t: {"parent_company": None},
        "bill_to_parent",
        "Choose a parent organization first",
        "Elija primero una organización matriz",
    ),
    (
        "device of another company",
        lambda t: {
            "devices": {
                "1": [
                    min(
                        i
                        for i, d in t.table("ConfigurationItems").items()
                        if d["companyID"] != company_id(t, "Acme Dental")
                    )
                ]
            }
        },
        "devices.1",
        "does not belong to Acme Dental",
        "no pertenece a Acme Dental",
    ),
    (
        "device on a service not on the contract",
        lambda t: {
            "devices": {
                "5": [
                    min(
                        i
                        for i, d in t.table("ConfigurationItems").items()
                        if d["companyID"] == company_id(t, "Acme Dental")
                    )
                ]
            }
        },
        "devices.5",
        "Add this service to the contract first",
        "Añada primero este servicio al contrato",
    ),
    (
        "zero units",
        lambda t: {"services": {"1": 0, "2": 2}},
        "services.1",
        "at least 1 unit",
        "al menos 1 unidad",
    ),
    (
        "managed without SLA",
        lambda t: {"sla": None},
        "sla",
        "This answer is required",
        "Esta respuesta es obligatoria",
    ),
    (
        "bad date",
        lambda t: {"contract_start": "next tuesday"},
        "contract_start",
        "YYYY-MM-DD",
        "AAAA-MM-DD",
    ),
    (
        "tax ID for an exempt client",
        lambda t: {"tax_exempt": True},
        "tax_id",
        "needs no tax ID",
        "no necesita Id. de impuesto",
    ),
    (
        "other address incomplete",
        lambda t: {"bill_to": "other", "bill_to_parent": False},
        "billing_address1",
        "This answer is required",
        "Esta respuesta es obligatoria",
    ),
    (
        "add and remove the same person",
        lambda t: {"team_remove": [technicians_first(t)]},
        "team_remove",
        "cannot be added and removed at once",
        "no puede añadirse y quitarse a la vez",
    ),
]


def technicians_first(tenant: Tenant) -> int:
    return int(managed_answers(tenant)["team_add"][0])


@pytest.mark.parametrize(
    ("name", "change", "question", "en", "es"), CASES, ids=[c[0] for c in CASES]
)
async def test_each_rule_names_its_question_in_both_languages(
    runner: Runner, tenant: Tenant, name: str, change: Any, question: str, en: str, es: str
) -> None:
    answers = managed_answers(tenant) | change(tenant)
    preview = await runner.preview(answers)
    assert preview.plan is None, f"{name}: the answers should have been refused"
    english = issues_by_question(preview.issues, Translator("en"))
    spanish = issues_by_question(preview.issues, Translator("es-ES"))
    assert question in english, f"{name}: issues were {english}"
    assert en in english[question]
    assert es in spanish[question]


async def test_valid_answers_have_no_issues(runner: Runner, tenant: Tenant) -> None:
    preview = await runner.preview(managed_answers(tenant))
    assert preview.issues == [] and preview.plan is not None


async def test_answers_of_hidden_pages_are_ignored(runner: Runner, tenant: Tenant) -> None:
    """Break/fix answers left over from a change of mind do not block a managed onboarding."""
    answers = managed_answers(tenant) | {
        "billing_contracts": [{"type": 99, "name": "", "start": "x", "end": "y"}]
    }
    preview = await runner.preview(answers)
    assert preview.issues == []


async def test_the_billing_admin_question_accepts_billing_admins(
    runner: Runner, tenant: Tenant
) -> None:
    answers = managed_answers(tenant) | {"billing_admins": [resource_id(tenant, "Tom", "Keller")]}
    assert (await runner.preview(answers)).issues == []


async def test_naming_a_parent_on_a_later_page_reads_only_that_company(
    runner: Runner, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    answers = managed_answers(tenant) | {"parent_company": None, "bill_to_parent": False}
    assert await runner.check_page(answers, "people") == []  # the company's state, read once
    sandbox.reset_log()
    named = answers | {"parent_company": company_id(tenant, "Harbor Group")}
    assert await runner.check_page(named, "organization") == []
    reads = [(c.method, c.path) for c in sandbox.calls if c.entity != "ThresholdInformation"]
    assert reads == [("POST", "Companies/query")]  # just the company the answer names
    lakeside = company_id(tenant, "Lakeside Realty")
    issues = await runner.check_page(named | {"parent_company": lakeside}, "organization")
    assert issues == []  # another parent: read too, the rest still from the same snapshot
