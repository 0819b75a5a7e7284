"""Every seed step, applied end to end to the sandbox through the real client and runner."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import text

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import Fault, SandboxTransport, Tenant
from services.onboarding.runner import AlreadyRunningError, Runner, RunReport
from services.onboarding.steps import PASSWORD_SYMBOLS
from services.store import repositories as repo
from services.store.db import Database
from tests.onboarding_support import (
    break_fix_answers,
    company_id,
    managed_answers,
    resource_id,
    snapshot,
    submitted,
    writes,
)


async def _apply(runner: Runner, answers: dict[str, Any]) -> tuple[str, RunReport]:
    onboarding_id, preview = await submitted(runner, answers, platform="test", requested_by="U1")
    assert onboarding_id is not None, preview.issues
    return onboarding_id, await runner.apply(onboarding_id)


async def test_managed_services_onboarding_covers_seed_steps_1_to_9(
    runner: Runner, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    answers = managed_answers(tenant)
    _, report = await _apply(runner, answers)
    assert report.status == "applied", report.failed
    cid = answers["company"]
    company = tenant.get("Companies", cid)
    assert company is not None
    # 0. converted from Prospect
    assert company["companyType"] == 1
    # 1. account team
    team = {r["resourceID"] for r in tenant.table("CompanyTeams").values() if r["companyID"] == cid}
    assert team == set(answers["team_add"])
    # 2. primary contact, and only one
    primaries = [
        c["id"]
        for c in tenant.table("Contacts").values()
        if c["companyID"] == cid and c["primaryContact"]
    ]
    assert primaries == [answers["primary_contact"]]
    # 3. Client Portal users with their security level, no password stored
    portal = {u["contactID"]: u for u in tenant.table("ClientPortalUsers").values()}
    assert set(portal) == set(answers["portal_contacts"])
    assert all(u["securityLevel"] == 1 and u["isClientPortalActive"] for u in portal.values())
    # 4. Taskfire
    assert company["isTaskFireActive"] is True
    # 5. parent organization, billed to the parent
    assert company["parentCompanyID"] == company_id(tenant, "Harbor Group")
    assert company["invoiceNonContractItemsToParentCompany"] is True
    assert company["billToAddressToUse"] == 2  # this tenant's "Use Parent Company Address"
    # 6. invoice settings and Attention
    assert (company["invoiceTemplateID"], company["taxRegionID"], company["taxID"]) == (
        2,
        1,
        "74-1234567",
    )
    attention = tenant.get("Contacts", answers["attention_contact"])
    assert attention is not None
    assert company["billToAttention"] == f"{attention['firstName']} {attention['lastName']}"
    # 7-8. recurring service contract with the SLA, services with units
    [contract] = [c for c in tenant.table("Contracts").values() if c["companyID"] == cid]
    assert (contract["contractType"], contract["serviceLevelAgreementID"]) == (7, 2)
    services = {
        s["serviceID"]: s
        for s in tenant.table("ContractServices").values()
        if s["contractID"] == contract["id"]
    }
    units = {
        u["serviceID"]: u["units"]
        for u in tenant.table("ContractServiceUnits").values()
        if u["contractID"] == contract["id"]
    }
    assert units == {1: 20, 2: 2}
    # 9. devices tied to the contract's services and the SLA
    for service_id, device_ids in answers["devices"].items():
        for device_id in device_ids:
            ci = tenant.get("ConfigurationItems", device_id)
            assert ci is not None
            assert ci["contractServiceID"] == services[int(service_id)]["id"]
            assert (ci["contractID"], ci["serviceLevelAgreementID"]) == (contract["id"], 2)
    # the onboarding is recorded on the company; invoice setup is complete, so no to-do
    [note] = [n for n in tenant.table("CompanyNotes").values() if n["companyID"] == cid]
    assert note["name"].startswith("Onboarding summary [")  # the marker a re-run finds it by
    assert "Client type: managed services" in note["note"]
    assert "Invoice setup: complete" in note["note"]
    owner = tenant.table("Companies")[cid]["ownerResourceID"]
    assert note["assignedResourceID"] == owner
    assert not [t for t in tenant.table("CompanyToDos").values() if t["companyID"] == cid]
    assert len(report.secrets) == 2


async def test_break_fix_onboarding_covers_seed_steps_10_and_11(
    runner: Runner, tenant: Tenant
) -> None:
    answers = break_fix_answers(tenant)
    _, report = await _apply(runner, answers)
    assert report.status == "applied"
    contracts = sorted(
        (c["contractType"], c["contractName"], c["serviceLevelAgreementID"])
        for c in tenant.table("Contracts").values() if c["companyID"] == answers["company"]
    )  # fmt: skip
    assert contracts == [(1, "T&M 2027", 3), (4, "Block of 20 hours", 3)]
    # Invoice setup left to billing: the account manager gets a to-do, since no admin was named.
    [todo] = [
        t for t in tenant.table("CompanyToDos").values() if t["companyID"] == answers["company"]
    ]
    company = tenant.get("Companies", answers["company"])
    assert company is not None and todo["assignedToResourceID"] == company["ownerResourceID"]
    assert "invoice template" in todo["activityDescription"]


async def test_billing_admins_get_the_to_do_when_setup_is_incomplete(
    runner: Runner, tenant: Tenant
) -> None:
    answers = managed_answers(tenant) | {"tax_id": None, "attention_contact": None}
    _, report = await _apply(runner, answers)
    assert report.invoice_missing == ["tax_id", "attention"]
    [todo] = [
        t for t in tenant.table("CompanyToDos").values() if t["companyID"] == answers["company"]
    ]
    assert todo["assignedToResourceID"] == resource_id(tenant, "Beatriz", "Lima")
    assert "tax id, attention" in todo["activityDescription"]


async def test_making_the_client_the_parent_of_existing_companies(
    runner: Runner, tenant: Tenant
) -> None:
    parent = company_id(tenant, "Granite Peak Engineering")
    children = [company_id(tenant, "Fjord Outdoor Supply"), company_id(tenant, "Delta Print Works")]
    answers = break_fix_answers(tenant, "Granite Peak Engineering") | {"child_companies": children}
    _, report = await _apply(runner, answers)
    assert report.status == "applied"
    assert [tenant.table("Companies")[c]["parentCompanyID"] for c in children] == [parent, parent]


async def test_an_applied_company_plans_all_no_change_and_a_rerun_writes_nothing(
    runner: Runner, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    answers = managed_answers(tenant)
    await _apply(runner, answers)
    before = snapshot(tenant)

    preview = await runner.preview(answers)
    assert preview.plan is not None
    assert preview.plan.steps and not preview.plan.changes

    sandbox.reset_log()
    _, report = await _apply(runner, answers)
    assert writes(sandbox.calls) == []
    assert {s.state for s in report.steps} == {"skipped"}
    assert snapshot(tenant) == before


async def test_a_failed_step_names_autotasks_reason_and_a_retry_finishes_without_duplicates(
    runner: Runner, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    answers = managed_answers(tenant)
    onboarding_id, _ = await submitted(runner, answers, platform="test", requested_by="U1")
    assert onboarding_id
    sandbox.fail_next(
        Fault(
            status=500,
            errors=["The contract module is not active."],
            method="POST",
            entity="Contracts",
        )
    )
    report = await runner.apply(onboarding_id)
    assert report.status == "failed"
    failed = report.failed
    assert failed is not None and failed.kind == "contract"
    assert "The contract module is not active." in (failed.error or "")
    done_before = [s.key for s in report.steps if s.state == "done"]
    assert "team_add:" + str(answers["team_add"][0]) in done_before

    sandbox.reset_log()
    retried = await runner.apply(onboarding_id)
    assert retried.status == "applied"
    assert not any(
        c.entity == "CompanyTeams" for c in writes(sandbox.calls)
    )  # done steps stay done
    assert (
        len([c for c in tenant.table("Contracts").values() if c["companyID"] == answers["company"]])
        == 1
    )


async def test_writes_are_attributed_to_the_requester_and_audited(
    autotask: AutotaskClient, db: Database, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    runner = Runner(client=autotask, reference=ReferenceData(autotask), db=db)
    requester = resource_id(tenant, "Marta", "Ruiz")
    onboarding_id, _ = await submitted(
        runner,
        managed_answers(tenant),
        platform="test",
        requested_by="U1",
        requester_resource_id=requester,
    )
    assert onboarding_id
    await runner.apply(onboarding_id)
    assert {c.impersonation for c in writes(sandbox.calls)} == {requester}
    async with db.transaction() as session:
        events = await repo.audit_trail(session, onboarding_id=onboarding_id)
    audited = [(e.action, e.entity) for e in events if e.entity]
    assert len(audited) == len(writes(sandbox.calls))
    assert all(e.actor == "U1" for e in events if e.entity)


async def test_cancel_stops_before_the_next_step(
    runner: Runner, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    onboarding_id, _ = await submitted(
        runner, managed_answers(tenant), platform="test", requested_by="U1"
    )
    assert onboarding_id
    async with runner.db.transaction() as session:  # what Cancel does, through the service
        assert await repo.request_cancel(session, onboarding_id=onboarding_id)
    sandbox.reset_log()
    report = await runner.apply(onboarding_id)
    assert report.status == "cancelled"
    assert writes(sandbox.calls) == []


async def test_two_front_ends_cannot_apply_the_same_onboarding_at_once(
    runner: Runner, db: Database, tenant: Tenant
) -> None:
    onboarding_id, _ = await submitted(
        runner, managed_answers(tenant), platform="test", requested_by="U1"
    )
    assert onboarding_id
    other = Runner(client=runner.client, reference=runner.reference, db=db)
    async with db.transaction() as session:
        assert await repo.claim_onboarding(session, onboarding_id=onboarding_id, owner=other.owner,
                                           now=other.clock(), lease=other.lease)  # fmt: skip
    with pytest.raises(AlreadyRunningError):
        await runner.apply(onboarding_id)


async def test_portal_passwords_follow_autotasks_rules_and_are_never_stored_or_logged(
    runner: Runner, db: Database, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, report = await _apply(runner, managed_answers(tenant))
    passwords = [s.password for s in report.secrets]
    assert len(passwords) == 2 and len(set(passwords)) == 2
    for password in passwords:
        assert 5 <= len(password) <= 50 and "'" not in password and " " not in password
        assert any(c in PASSWORD_SYMBOLS for c in password) and any(c.isdigit() for c in password)
    async with db.transaction() as session:
        dumped = ""
        for table in ("drafts", "onboardings", "step_runs", "audit_events"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
            dumped += json.dumps([list(map(str, r)) for r in rows])
    for password in passwords:
        assert password not in dumped
        assert password not in caplog.text
        assert password not in repr(report.secrets)


async def test_every_planned_step_reads_well_in_both_languages(
    runner: Runner, tenant: Tenant
) -> None:
    from services.i18n import Translator

    kinds = set()
    for answers in (
        managed_answers(tenant) | {"tax_id": None, "team_remove": []},
        break_fix_answers(tenant),
    ):
        preview = await runner.preview(answers)
        assert preview.plan is not None
        for step in preview.plan.steps:
            kinds.add(step.kind)
            for locale in ("en", "es"):
                text = step.describe(Translator(locale))
                assert not text.startswith("step.") and "{" not in text, (locale, step.kind, text)
    assert {
        "company_type",
        "taskfire",
        "parent",
        "team_add",
        "primary_contact",
        "portal_user",
        "invoice",
        "contract",
        "contract_service",
        "device",
        "billing_contract",
        "note",
        "todo",
    } <= kinds
