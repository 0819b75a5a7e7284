"""Scenario builders for engine tests and benchmarks: answers by name, state snapshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from services.autotask.sandbox import Tenant
from services.onboarding.runner import Preview, Runner
from services.store.db import Database
from services.store.engine import make_engine
from services.store.tables import Base

VOLATILE = {"lastTrackedModifiedDateTime", "createDate", "createDateTime", "lastModifiedDate"}
WRITTEN = (
    "Companies", "CompanyTeams", "Contacts", "ClientPortalUsers", "Contracts", "ContractServices",
    "ContractServiceUnits", "ConfigurationItems", "CompanyNotes", "CompanyToDos",
)  # fmt: skip


@asynccontextmanager
async def sqlite_database(path: Path) -> AsyncIterator[Database]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield Database(engine)
    finally:
        await engine.dispose()


def company_id(tenant: Tenant, name: str) -> int:
    return next(i for i, c in tenant.table("Companies").items() if c["companyName"] == name)


def contacts_of(tenant: Tenant, cid: int) -> list[dict[str, Any]]:
    return [c for _, c in sorted(tenant.table("Contacts").items()) if c["companyID"] == cid]


def resource_id(tenant: Tenant, first: str, last: str) -> int:
    return next(
        i
        for i, r in tenant.table("Resources").items()
        if (r["firstName"], r["lastName"]) == (first, last)
    )


def devices_of(tenant: Tenant, cid: int) -> list[int]:
    return sorted(i for i, d in tenant.table("ConfigurationItems").items() if d["companyID"] == cid)


def technicians(tenant: Tenant, n: int) -> list[int]:
    return sorted(
        i for i, r in tenant.table("Resources").items()
        if r["isActive"] and r["licenseType"] == 1 and r["title"] != "Billing Administrator"
    )[:n]  # fmt: skip


def managed_answers(
    tenant: Tenant,
    *,
    team: int = 2,
    portal: int = 2,
    devices: int = 6,
    company: str = "Acme Dental",
) -> dict[str, Any]:
    """A full managed-services onboarding of a prospect: every seed step 1-9."""
    cid = company_id(tenant, company)
    people = contacts_of(tenant, cid)
    cis = devices_of(tenant, cid)
    half = devices // 2
    return {
        "company": cid, "client_type": "managed", "convert_to_customer": True,
        "team_add": technicians(tenant, team), "primary_contact": people[0]["id"],
        "portal_contacts": [c["id"] for c in people[:portal]], "portal_security_level": 1,
        "taskfire": True, "parent_company": company_id(tenant, "Harbor Group"), "bill_to_parent": True,
        "billing_admins": [resource_id(tenant, "Beatriz", "Lima")], "invoice_template": 2,
        "tax_region": 1, "tax_id": "74-1234567", "bill_to": "later",
        "attention_contact": people[1]["id"], "sla": 2, "contract_name": f"{company} - Managed Services",
        "contract_start": "2027-01-01", "contract_end": "2027-12-31", "contract_period": 1,
        "services": {"1": 20, "2": 2}, "devices": {"1": cis[half:devices], "2": cis[:half]},
    }  # fmt: skip


def break_fix_answers(tenant: Tenant, company: str = "Cedar & Pine Law") -> dict[str, Any]:
    """Seed steps 10-11: billing contracts of several types with an SLA; invoice left to billing."""
    cid = company_id(tenant, company)
    return {
        "company": cid, "client_type": "break_fix", "bf_sla": 3,
        "team_add": technicians(tenant, 1), "primary_contact": contacts_of(tenant, cid)[0]["id"],
        "billing_contracts": [
            {"type": 1, "name": "T&M 2027", "start": "2027-01-01", "end": "2027-12-31"},
            {"type": 4, "name": "Block of 20 hours", "start": "2027-01-01", "end": "2027-06-30"},
        ],
    }  # fmt: skip


def snapshot(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """The records the onboarding writes, without fields Autotask stamps with the clock. The note
    and to-dos are dated the day their run wrote them: two runs compared across midnight (an
    uninterrupted one, then a killed one) must still compare equal, so those dates become days
    after the run's day, which must be today or yesterday."""
    return {
        entity: [
            _undated({k: v for k, v in row.items() if k not in VOLATILE}, entity)
            for _, row in sorted(tenant.table(entity).items())
        ]
        for entity in WRITTEN
    }


DATED = {"CompanyNotes", "CompanyToDos"}


def _undated(row: dict[str, Any], entity: str) -> dict[str, Any]:
    if entity not in DATED or not row.get("startDateTime"):
        return row
    day = date.fromisoformat(str(row["startDateTime"])[:10])
    today = datetime.now(UTC).date()
    assert day in (today, today - timedelta(days=1)), f"{entity} dated {day}, not the run's day"
    return {
        **row,
        **{
            k: f"run day + {(date.fromisoformat(str(row[k])[:10]) - day).days}"
            for k in ("startDateTime", "endDateTime")
            if row.get(k)
        },
    }


def writes(calls: list[Any]) -> list[Any]:
    return [
        c
        for c in calls
        if c.method in ("POST", "PATCH", "PUT", "DELETE") and "/query" not in c.path
    ]


OUR_TABLES = (
    "offered_devices",
    "device_offers",
    "device_followups",
    "chat_conversations",
    "autotask_webhooks",
    "job_runs",
    "reminder_schedules",
    "step_runs",
    "audit_events",
    "onboardings",
    "drafts",
    "alembic_version",
)


async def reset_database(url: str) -> None:
    """Drop our tables, so a shared PostgreSQL database starts each test empty."""
    from sqlalchemy import text

    engine = make_engine(url)
    async with engine.begin() as conn:
        for table in OUR_TABLES:
            await conn.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    await engine.dispose()


async def submitted(
    runner: Runner, answers: dict[str, Any], **stored: Any
) -> tuple[str | None, Preview]:
    """Validate, plan and store an onboarding as Apply does (no draft): its id and the preview,
    or ``None`` and the issues. ``stored`` are ``Runner.store``'s keywords (platform, requester)."""
    preview = await runner.preview(answers)
    if preview.plan is None or preview.request is None:
        return None, preview
    return await runner.store(preview.request, preview.plan, **stored), preview
