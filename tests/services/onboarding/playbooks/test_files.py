"""Playbook files against the sandbox tenant: the example set is valid; every mistake is reported
with its file, line and the closest labels the tenant has, and only that playbook is withheld."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.autotask.sandbox import Tenant
from services.i18n import Translator, catalogue
from services.onboarding.form import QUESTIONS
from services.onboarding.playbooks.catalog import Playbooks, Status
from services.onboarding.playbooks.expressions import parse_date, render
from services.onboarding.playbooks.resolve import DEVICE_TYPES
from services.onboarding.playbooks.source import PER_CLIENT
from tests.onboarding_support import resource_id
from tests.services.onboarding.playbooks.conftest import write

EN, ES = Translator("en"), Translator("es")

BROKEN = """\
title: Managed Platinum
client_type: managed
team_add: [raj.iyer@brightline-it.example, Sofia Mendes]
invoice_template: Managed Service Invoice
sla: Premium 24/7
slaa: Premium 24x7
primary_contact: Jonas Fischer
contract_name: "{company} - {plan}"
contract_start: next month
contract_end: start + 1 year - 1 day
services:
  Managed Workstations: {per_device: Workstation}
  Managed Server: {per_device: Servers}
  Backup per TB: 0
"""


def _problems(status: Status, t: Translator = EN) -> list[str]:
    return [p.text(t) for p in status.problems]


def _by_name(statuses: list[Status]) -> dict[str, Status]:
    return {s.name: s for s in statuses}


async def test_the_example_set_is_valid_against_the_seed_tenant(catalog: Playbooks) -> None:
    statuses = await catalog.refresh()
    assert [(s.name, s.valid, s.client_type) for s in statuses] == [
        ("break-fix-block-hours", True, "break_fix"),
        ("managed-essentials", True, "managed"),
        ("managed-gold", True, "managed"),
    ]
    assert [o.label for o in await catalog.offered()] == [
        "Break/fix with block hours", "Managed Essentials", "Managed Gold",
    ]  # fmt: skip
    gold = catalog.find("managed-gold")
    assert gold is not None and gold.title("es") == "Gestionado Oro"


async def test_a_broken_playbook_names_each_mistake_by_line_and_the_others_stay_offered(
    catalog: Playbooks, playbooks_dir: Path
) -> None:
    write(playbooks_dir, "platinum.yaml", BROKEN)
    statuses = _by_name(await catalog.refresh())
    assert _problems(statuses["platinum"]) == [
        'platinum.yaml:3: team_add.1: "Sofia Mendes" is not one of this tenant\'s active '
        "resources; closest: Sofia Mendez <sofia.mendez@brightline-it.example>",
        'platinum.yaml:4: invoice_template: "Managed Service Invoice" is not one of this '
        "tenant's invoice templates; closest: Managed Services Invoice; Standard Invoice",
        'platinum.yaml:5: sla: "Premium 24/7" is not one of this tenant\'s service level '
        "agreements (SLA); closest: Premium 24x7",
        "platinum.yaml:6: slaa is not a question of the form; closest: sla, bf_sla",
        "platinum.yaml:7: primary_contact differs for every client (the company, its contacts "
        "or devices): a playbook cannot give it",
        "platinum.yaml:8: contract_name: unknown placeholder {plan}; use {company}, {today}, "
        "{start}, {end}",
        'platinum.yaml:9: contract_start: "next month" is neither a date (2027-01-01) nor a '
        'rule such as "first of next month" or "start + 1 year - 1 day"',
        'platinum.yaml:12: services.Managed Workstations: "Managed Workstations" is not one of '
        "this tenant's services; closest: Managed Workstation",
        'platinum.yaml:13: services.Managed Server.per_device: "Servers" is not one of this '
        "tenant's device types; closest: Server",
        "platinum.yaml:14: services.Backup per TB: expected a number of units (1-100000), or "
        "one of units:, per_device: <device type>, per_user: true (with attach: true/false for "
        "per_device)",
    ]
    assert [s for s in statuses.values() if s.valid] == [
        statuses["break-fix-block-hours"], statuses["managed-essentials"], statuses["managed-gold"]
    ]  # fmt: skip
    assert "Managed Platinum" not in [o.label for o in await catalog.offered()]
    assert catalog.find("platinum") is None


async def test_problems_are_told_in_spanish_too(catalog: Playbooks, playbooks_dir: Path) -> None:
    write(playbooks_dir, "platinum.yaml", BROKEN)
    problems = _problems(_by_name(await catalog.refresh())["platinum"], ES)
    assert problems[2] == (
        'platinum.yaml:5: sla: "Premium 24/7" no figura entre los acuerdos de niveles de servicio '
        "(SLA) de esta instancia; lo más parecido: Premium 24x7"
    )
    assert problems[4].startswith("platinum.yaml:7: primary_contact es distinto para cada cliente")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: X\nclient_type: managed\nsla: [Premium 24x7\n",
         "broken.yaml:4: not valid YAML: expected ',' or ']', but got '<stream end>'"),
        ("- a list\n", "broken.yaml:1: a playbook is a YAML mapping of answers (title:, client_type:, ...)"),
        ("title: X\nclient_type: managed\nsla: Premium 24x7\nsla: Standard 8x5\n",
         "broken.yaml:4: sla is given twice (first on line 3); YAML keeps only the last"),
        ("client_type: managed\n", "broken.yaml:1: title is required"),
        ("title: X\nclient_type: hourly\n",
         "broken.yaml:2: client_type: expected managed or break_fix"),
        ("title: X\nclient_type: break_fix\nsla: Premium 24x7\n",
         "broken.yaml:3: sla is not asked of break_fix clients"),
        ("title: X\nclient_type: managed\ncontract_start: 2027-03-01\ncontract_end: 2027-01-31\n",
         "broken.yaml:4: contract_end: The end must be after the start."),
        ("title: X\nclient_type: managed\ntaskfire: maybe\n",
         "broken.yaml:3: taskfire: expected true or false"),
        ("title: X\nclient_type: managed\nbill_to: head office\n",
         "broken.yaml:3: bill_to: expected one of company, parent, other, later"),
        ("title: X\nclient_type: managed\ncontract_start: start + 1 day\n",
         'broken.yaml:3: contract_start: "start" can only be used in an end date (it is the '
         "contract's start)"),
        ("title: X\nclient_type: managed\nservices:\n  Managed Workstation: {per_device: Workstation}\n"
         "  Endpoint Security: {per_device: Workstation}\n",
         "broken.yaml:5: services.Endpoint Security: the Workstation devices are already tied to "
         "Managed Workstation; add attach: false to one of them"),
        ("title: X\nclient_type: break_fix\nbilling_contracts:\n  - type: Block Hour\n"
         "    name: Block\n    start: today\n    end: start + 1 month\n",
         'broken.yaml:4: billing_contracts.0.type: "Block Hour" is not one of this tenant\'s '
         "contract types; closest: Block Hours"),
        ("title: X\nclient_type: break_fix\nbilling_contracts:\n  - type: Block Hours\n"
         "    name: Block\n    start: today\n",
         "broken.yaml:4: billing_contracts.0: end is required"),
        ('title: X\nclient_type: managed\ncontract_name: "{company:>999999999}"\n',
         "broken.yaml:3: contract_name: the template cannot be filled in: {company} takes no "
         "format"),
        ('title: X\nclient_type: managed\ncontract_name: "{company.__class__}"\n',
         "broken.yaml:3: contract_name: unknown placeholder {company.__class__}; use {company}, "
         "{today}, {start}, {end}"),
    ],
)  # fmt: skip
async def test_each_kind_of_mistake_is_reported_on_its_line(
    catalog: Playbooks, playbooks_dir: Path, text: str, expected: str
) -> None:
    write(playbooks_dir, "broken.yaml", text)
    status = _by_name(await catalog.refresh())["broken"]
    assert _problems(status)[0] == expected
    assert len(await catalog.offered()) == 3


async def test_two_playbooks_with_one_title_are_ambiguous(
    catalog: Playbooks, playbooks_dir: Path
) -> None:
    write(playbooks_dir, "z-gold.yaml", (playbooks_dir / "managed-gold.yaml").read_text())
    status = _by_name(await catalog.refresh())["z-gold"]
    assert _problems(status) == [
        'z-gold.yaml: another playbook (managed-gold.yaml) has the title or name "Managed Gold"'
    ]
    assert catalog.find("managed-gold") is not None and catalog.find("z-gold") is None


async def test_a_tenant_change_withdraws_the_playbook_at_the_next_refresh(
    catalog: Playbooks, tenant: Tenant
) -> None:
    assert catalog.find("managed-gold") is None  # nothing read before the first use
    assert len(await catalog.offered()) == 3
    seat = next(s for s in tenant.table("Services").values() if s["name"] == "Microsoft 365 Seat")
    seat["isActive"] = False  # retired in Autotask
    await catalog.sources.reference.refresh_all()
    statuses = _by_name(await catalog.refresh())
    assert _problems(statuses["managed-gold"]) == [
        'managed-gold.yaml:30: services.Microsoft 365 Seat: "Microsoft 365 Seat" is not one of '
        "this tenant's services; closest: Endpoint Security; Firewall Management; Managed Server"
    ]
    assert catalog.find("managed-gold") is None and catalog.find("managed-essentials") is not None


async def test_people_are_matched_by_name_or_e_mail_as_in_answers_files(
    catalog: Playbooks, tenant: Tenant
) -> None:
    await catalog.refresh()
    gold = catalog.find("managed-gold")
    assert gold is not None
    assert gold.answers["team_add"] == [
        resource_id(tenant, "Raj", "Iyer"), resource_id(tenant, "Sofia", "Mendez")
    ]  # fmt: skip


def test_relative_dates_and_templates() -> None:
    today = date(2027, 1, 31)
    assert parse_date("first of next month").on(today) == date(2027, 2, 1)
    assert parse_date("today + 1 month").on(today) == date(2027, 2, 28)  # relativedelta's rule
    assert parse_date("start + 1 year - 1 day").on(today, date(2027, 2, 1)) == date(2028, 1, 31)
    assert parse_date("first of this month - 2 weeks").on(today) == date(2026, 12, 18)
    assert parse_date(date(2027, 5, 1)).on(today) == date(2027, 5, 1)
    assert render("{company} - T&M {start:%Y}", {"company": "Acme", "start": date(2027, 2, 1)}) == (
        "Acme - T&M 2027"
    )
    with pytest.raises(ValueError, match="next month"):
        parse_date("next month")


def test_every_list_a_playbook_can_name_is_worded_in_both_languages() -> None:
    sources = {item.source for q in QUESTIONS.values() if q.id not in PER_CLIENT
               for item in (q, *q.fields) if item.source}  # fmt: skip
    keys = {"playbook.list." + s.replace(":", "_") for s in (*sources, DEVICE_TYPES)}
    assert keys <= set(catalogue("en")) and keys <= set(catalogue("es")), keys - set(
        catalogue("es")
    )
