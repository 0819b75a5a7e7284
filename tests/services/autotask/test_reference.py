"""Reference data: labels map to this tenant's ids, and lists are served from cache."""

from __future__ import annotations

import asyncio

import pytest

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport


async def test_picklist_labels_map_to_ids_both_ways(autotask: AutotaskClient) -> None:
    ref = ReferenceData(autotask)
    contract_type = await ref.picklist("contract_type")
    assert contract_type.id_for("recurring service") == 7
    assert contract_type.label_for(1) == "Time & Materials"
    with pytest.raises(KeyError, match="this tenant has: Time & Materials"):
        contract_type.id_for("Subscription")
    levels = await ref.picklist("portal_security_level")
    assert levels.id_for("Taskfire Administrator") == 5


async def test_lookups_come_from_the_tenant(autotask: AutotaskClient) -> None:
    ref = ReferenceData(autotask)
    assert "Tax Exempt (non-profit)" in {t.name for t in await ref.tax_regions()}
    assert "Managed Services Invoice" in {t.name for t in await ref.invoice_templates()}
    assert "ES" in {c.country_code for c in await ref.countries()}
    resources = await ref.active_resources()
    assert len(resources) >= 38
    assert all(r.is_active for r in resources)
    assert "onboarding-bot@brightline-it.example" not in {r.email for r in resources}  # API-only
    billing = await ref.resource_by_email("BEATRIZ.LIMA@brightline-it.example")
    assert billing is not None and billing.title == "Billing Administrator"


async def test_lists_are_cached_and_a_stale_list_is_served_while_it_refreshes(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    now = [0.0]
    ref = ReferenceData(autotask, ttl=60, clock=lambda: now[0])
    first = await ref.tax_regions()
    await ref.tax_regions()
    assert _reads(sandbox) == 1

    await autotask.create("TaxRegions", {"name": "Nevada 6.85%", "isActive": True})
    now[0] = 61
    sandbox.latency = 0.05
    stale = await ref.tax_regions()  # answered at once from cache
    assert stale == first
    await asyncio.sleep(0.2)
    fresh = await ref.tax_regions()
    assert "Nevada 6.85%" in {t.name for t in fresh}
    assert _reads(sandbox) == 2


def _reads(sandbox: SandboxTransport) -> int:
    return sum(1 for c in sandbox.calls if c.path == "TaxRegions/query")


async def test_refresh_all_loads_everything_the_form_needs(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    ref = ReferenceData(autotask)
    await ref.refresh_all()
    sandbox.reset_log()
    await ref.picklist("sla")
    await ref.active_resources()
    await ref.countries()
    assert sandbox.calls == []
