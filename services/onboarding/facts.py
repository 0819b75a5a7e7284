"""A snapshot of what Autotask holds for one company, read once per plan.

Validation and planning both work from this snapshot, so a plan costs a fixed handful of queries
however many steps it has, and a resumed run re-reads it: the fresh snapshot is the check that
keeps a re-run from creating anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.autotask.client import AutotaskClient
from services.autotask.filters import chunked_in
from services.autotask.filters import field as f
from services.autotask.models import (
    ClientPortalUser,
    Company,
    CompanyNote,
    CompanyTeam,
    CompanyToDo,
    ConfigurationItem,
    Contact,
    Contract,
    ContractService,
    Country,
    InvoiceTemplate,
    Resource,
    Service,
    TaxRegion,
)
from services.autotask.reference import FieldRule, Picklist, ReferenceData
from services.invoice_setup import NOTE_MARK, TODO_MARK


@dataclass
class Lookups:
    """Tenant-wide lists (cached by ReferenceData): ids to names, and field rules."""

    rules: dict[str, dict[str, FieldRule]]
    picklists: dict[str, Picklist]
    resources: dict[int, Resource]
    services: dict[int, Service]
    tax_regions: dict[int, TaxRegion]
    invoice_templates: dict[int, InvoiceTemplate]
    countries: dict[int, Country]
    default_billing_admins: list[int] = field(default_factory=list)

    def max_length(self, entity: str, name: str) -> int:
        rule = self.rules.get(entity, {}).get(name.lower())
        return rule.length if rule else 0


@dataclass
class CompanyFacts:
    company: Company
    contacts: dict[int, Contact]
    portal_users: dict[int, ClientPortalUser]  # by contact id
    team: dict[int, CompanyTeam]  # by resource id
    ancestors: list[int]
    descendants: set[int]
    related: dict[int, Company]  # companies named in the answers (parent, children)
    contracts: list[Contract]
    contract_services: dict[int, list[ContractService]]  # by contract id
    units: dict[int, int]  # by contract service id
    devices: dict[int, ConfigurationItem]
    notes: list[CompanyNote]
    todos: list[CompanyToDo]
    lookups: Lookups


async def load_lookups(
    reference: ReferenceData, billing_admin_emails: Iterable[str] = ()
) -> Lookups:
    """Tenant lists; ``billing_admin_emails`` (BILLING_ADMINS) become the default to-do owners."""
    rules = {
        e: await reference.field_rules(e) for e in ("Companies", "Contracts", "ClientPortalUsers")
    }
    names = (
        "company_type", "bill_to_address", "contract_type", "contract_status", "contract_period",
        "sla", "portal_security_level", "portal_date_format", "portal_number_format",
        "portal_time_format", "note_action_type", "todo_action_type",
    )  # fmt: skip
    picklists = {name: await reference.picklist(name) for name in names}
    services = await reference.services()
    admins = [await reference.resource_by_email(email) for email in billing_admin_emails]
    return Lookups(
        default_billing_admins=[a.id for a in admins if a is not None and a.id is not None],
        rules=rules,
        picklists=picklists,
        resources={r.id: r for r in await reference.active_resources() if r.id is not None},
        services={s.id: s for s in services if s.id is not None},
        tax_regions={t.id: t for t in await reference.tax_regions() if t.id is not None},
        invoice_templates={
            t.id: t for t in await reference.invoice_templates() if t.id is not None
        },
        countries={c.id: c for c in await reference.countries() if c.id is not None},
    )


async def load_company_facts(
    client: AutotaskClient,
    lookups: Lookups,
    company_id: int,
    *,
    related_ids: Iterable[int] = (),
) -> CompanyFacts | None:
    """Everything the plan compares against; ``None`` when the company does not exist."""
    company = await client.get_model(Company, company_id)
    if company is None:
        return None
    by_company = [f("companyID").eq(company_id)]
    contacts = {c.id: c for c in await client.query_models(Contact, by_company) if c.id is not None}
    portal: dict[int, ClientPortalUser] = {}
    for condition in chunked_in("contactID", sorted(contacts)):
        for user in await client.query_models(ClientPortalUser, [condition]):
            if user.contact_id is not None:
                portal[user.contact_id] = user
    team = {
        t.resource_id: t
        for t in await client.query_models(CompanyTeam, by_company)
        if t.resource_id
    }
    contracts = await client.query_models(Contract, by_company)
    contract_ids = [c.id for c in contracts if c.id is not None]
    services: dict[int, list[ContractService]] = {}
    units: dict[int, int] = {}
    if contract_ids:
        for cs in await client.query_models(ContractService, [f("contractID").in_(contract_ids)]):
            services.setdefault(cs.contract_id or 0, []).append(cs)
        for row in await client.query("ContractServiceUnits", [f("contractID").in_(contract_ids)]):
            units[int(row["contractServiceID"])] = int(row.get("units") or 0)
    devices = {
        d.id: d
        for d in await client.query_models(ConfigurationItem, [*by_company, f("isActive").eq(True)])
        if d.id is not None
    }
    notes = await client.query_models(CompanyNote, [*by_company, f("name").begins_with(NOTE_MARK)])
    todos = await client.query_models(
        CompanyToDo, [*by_company, f("activityDescription").begins_with(TODO_MARK)]
    )

    related_companies = await load_related(client, company_id, related_ids)
    ancestors = await _ancestors(client, company, related_companies)
    descendants = await _descendants(client, company_id)
    return CompanyFacts(
        company=company, contacts=contacts, portal_users=portal, team=team, ancestors=ancestors,
        descendants=descendants, related=related_companies, contracts=contracts,
        contract_services=services, units=units, devices=devices, notes=notes, todos=todos,
        lookups=lookups,
    )  # fmt: skip


async def load_related(
    client: AutotaskClient, company_id: int, related_ids: Iterable[int]
) -> dict[int, Company]:
    """The companies the answers name (parent, children): one query, none when there are none."""
    related = sorted({i for i in related_ids if i != company_id})
    if not related:
        return {}
    return {c.id: c for c in await client.query_models(Company, [f("id").in_(related)]) if c.id}


async def _ancestors(
    client: AutotaskClient, company: Company, known: dict[int, Company]
) -> list[int]:
    chain: list[int] = []
    parent_id = company.parent_company_id
    while parent_id is not None and parent_id not in chain:
        chain.append(parent_id)
        parent = known.get(parent_id) or await client.get_model(Company, parent_id)
        parent_id = parent.parent_company_id if parent else None
    return chain


async def _descendants(client: AutotaskClient, company_id: int) -> set[int]:
    found: set[int] = set()
    frontier = [company_id]
    while frontier:
        children: list[int] = []
        for condition in chunked_in("parentCompanyID", frontier):
            rows = await client.query("Companies", [condition], include_fields=["id"])
            children.extend(int(r["id"]) for r in rows if int(r["id"]) not in found)
        found.update(children)
        frontier = children
    return found
