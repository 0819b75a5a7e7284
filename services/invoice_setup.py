"""What onboarding and reminders share: is the invoice setup complete, and which note and to-dos
are an onboarding's.

Onboarding plans the summary note and the billing administrators' to-dos and marks them with the
request's reference; reminders follow the same company until Autotask shows the invoice setup
complete, then complete those to-dos. Both packages import this module and neither imports the
other (an import-linter contract keeps it so).

Is a company's invoice setup complete, according to Autotask itself? The seed page asks the
billing administrator for: an invoice template, a tax region and a tax ID, a billing address, and
the "Attention" line. Tax-exempt companies need no tax region or ID.
The billing address depends on the bill-to choice: the company's own address, the parent's (the
company must have a parent), a location, or another address typed in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from services.autotask.client import AutotaskClient
from services.autotask.filters import chunked_in
from services.autotask.models import Company
from services.autotask.reference import Picklist

ITEMS = ("invoice_template", "tax_region", "tax_id", "billing_address", "attention")
NOTE_MARK = "Onboarding summary"
TODO_MARK = "[onboarding "


def request_reference(request: Mapping[str, Any]) -> str:
    """A short fingerprint of an onboarding's answers (its JSON dump): marks its note and to-dos."""
    canonical = json.dumps(request, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def note_name(reference: str) -> str:
    return f"{NOTE_MARK} [{reference}]"


def todo_marker(reference: str) -> str:
    """How the description of each to-do of one onboarding begins."""
    return f"{TODO_MARK}{reference}]"


def bill_to_kind(picklist: Picklist | None, value: int | None) -> str | None:
    """Our name for a ``billToAddressToUse`` value, matched on the tenant's label."""
    label = (picklist.label_for(value) if picklist else None) or ""
    text = label.lower()
    if not text:
        return None
    if "parent" in text:
        return "parent"
    if "other" in text:
        return "other"
    if "location" in text:
        return "location"
    return "company"


def bill_to_value(picklist: Picklist, kind: str) -> int | None:
    return next((v.id for v in picklist.active if bill_to_kind(picklist, v.id) == kind), None)


def missing_items(
    company: Company, bill_to: Picklist | None, required: Iterable[str] = ITEMS
) -> list[str]:
    """What is still missing, in the order of ``ITEMS``; empty when the setup is complete."""
    wanted = set(required)
    missing: list[str] = []
    if "invoice_template" in wanted and not company.invoice_template_id:
        missing.append("invoice_template")
    if not company.is_tax_exempt:
        if "tax_region" in wanted and not company.tax_region_id:
            missing.append("tax_region")
        if "tax_id" in wanted and not (company.tax_id or "").strip():
            missing.append("tax_id")
    if "billing_address" in wanted and not _address_ok(company, bill_to):
        missing.append("billing_address")
    if "attention" in wanted and not (company.bill_to_attention or "").strip():
        missing.append("attention")
    return missing


def _address_ok(company: Company, bill_to: Picklist | None) -> bool:
    kind = bill_to_kind(bill_to, company.bill_to_address_to_use)
    if kind == "company":
        return bool(company.address1 and company.city)
    if kind == "parent":
        return company.parent_company_id is not None
    if kind == "location":
        return company.bill_to_company_location_id is not None
    if kind == "other":
        return bool(company.billing_address1 and company.bill_to_city and company.bill_to_zip_code)
    return False


async def read_companies(client: AutotaskClient, ids: Sequence[int]) -> dict[int, Company]:
    """The companies with these ids, one Companies query per 500 ids (Autotask's OR-term limit)."""
    found: dict[int, Company] = {}
    for condition in chunked_in("id", sorted(set(ids))):
        # limit = the ids asked for: a full page then needs no second, empty one
        for company in await client.query_models(Company, [condition], limit=len(condition.value)):
            if company.id is not None:
                found[company.id] = company
    return found
