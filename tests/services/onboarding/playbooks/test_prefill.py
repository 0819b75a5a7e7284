"""Choosing a playbook through the onboarding service (what every front-end calls), against the
sandbox tenant: it pre-fills the later answers, every page is still shown, answers the person
gave are never overwritten by a later playbook, and the review and the note say what came from
it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from services.autotask.sandbox import Tenant
from services.i18n import Translator
from services.onboarding.actor import Actor
from services.onboarding.outcomes import Invalid, PageView, Review
from services.onboarding.playbooks.catalog import Playbooks
from services.onboarding.service import OnboardingService
from services.store import repositories as repo
from tests.onboarding_support import company_id, resource_id
from tests.services.onboarding.conftest import DAN, MARTA, person
from tests.services.onboarding.playbooks.conftest import write

EN, ES = Translator("en"), Translator("es")
FIRST_OF_NEXT_MONTH = datetime.now(UTC).date() + relativedelta(months=1, day=1)


def _field(view: PageView, path: str) -> Any:
    return next(f for f in view.fields if f.path == path)


def _service_id(tenant: Tenant, name: str) -> str:
    return str(next(i for i, s in tenant.table("Services").items() if s["name"] == name))


def _devices(tenant: Tenant, company: str, *kinds: int) -> list[int]:
    cid = company_id(tenant, company)
    return sorted(i for i, d in tenant.table("ConfigurationItems").items()
                  if d["companyID"] == cid and d["isActive"] and d["configurationItemType"] in kinds)  # fmt: skip


def _contacts(tenant: Tenant, company: str) -> int:
    cid = company_id(tenant, company)
    return sum(
        1 for c in tenant.table("Contacts").values() if c["companyID"] == cid and c["isActive"]
    )


async def _answers(service: OnboardingService, draft_id: str) -> dict[str, Any]:
    """The draft's answers as saved (ids; units and devices keyed by service id)."""
    async with service.db.transaction() as session:
        draft = await repo.get_draft(session, draft_id=draft_id)
        assert draft is not None
        return dict(draft.answers)


async def _walk(
    service: OnboardingService, actor: Actor, view: PageView
) -> tuple[list[PageView], Review | Invalid]:
    """Next on every page without touching a field: the pages shown, then the outcome."""
    shown: list[PageView] = []
    outcome: PageView | Review | Invalid = view
    while isinstance(outcome, PageView):
        shown.append(outcome)
        outcome = await service.save_page(actor, view.draft_id, {})
    return shown, outcome


async def _acme_on_gold(
    service: OnboardingService, *, walk: bool = False
) -> tuple[Actor, PageView]:
    """Marta's new draft for Acme Dental with Managed Gold chosen; ``walk``: Next on every page
    up to the review (the draft is then on the managed page)."""
    marta = await person(service, *MARTA)
    start = await service.start(marta, "Acme Dental")
    view = await service.change(marta, start.draft_id, {"playbook": "managed-gold"})
    if walk:
        await _walk(service, marta, view)
    return marta, view


async def _back_to_first_page(service: OnboardingService, actor: Actor, draft_id: str) -> PageView:
    view = await service.back(actor, draft_id, from_review=True)
    while not view.first:
        view = await service.back(actor, draft_id)
    return view


async def test_the_first_page_offers_the_valid_playbooks_in_the_persons_language(
    playbook_service: OnboardingService,
) -> None:
    view = await playbook_service.start(await person(playbook_service, *MARTA), "Acme Dental")
    assert [f.path for f in view.fields] == [
        "company",
        "playbook",
        "client_type",
        "convert_to_customer",
    ]
    playbook = _field(view, "playbook")
    assert playbook.dependent and not playbook.searched
    assert [(o.value, o.label) for o in playbook.options] == [
        ("break-fix-block-hours", "Break/fix with block hours"),
        ("managed-essentials", "Managed Essentials"),
        ("managed-gold", "Managed Gold"),
    ]
    spanish = await playbook_service.start(await person(playbook_service, *DAN), "Acme Dental")
    assert [o.label for o in _field(spanish, "playbook").options] == [
        "Break/fix con bloque de horas", "Gestionado Esencial", "Gestionado Oro",
    ]  # fmt: skip


async def test_without_playbooks_the_first_page_has_no_playbook_question(
    service: OnboardingService,
) -> None:
    view = await service.start(await person(service, *MARTA), "Acme Dental")
    assert [f.path for f in view.fields] == ["company", "client_type", "convert_to_customer"]


async def test_choosing_a_playbook_fills_every_later_answer_and_every_page_is_still_shown(
    playbook_service: OnboardingService, tenant: Tenant
) -> None:
    marta, view = await _acme_on_gold(playbook_service)
    assert _field(view, "client_type").value == "managed"
    assert [n.message(EN) for n in view.notices] == [
        "The playbook Managed Gold filled in 15 answers. Check each page: you can change any "
        "of them."
    ]
    shown, review = await _walk(playbook_service, marta, view)
    assert [v.page for v in shown] == ["client", "people", "organization", "billing", "managed"]
    assert isinstance(review, Review), review

    workstations = _devices(tenant, "Acme Dental", 1)
    servers = _devices(tenant, "Acme Dental", 2)
    firewalls = _devices(tenant, "Acme Dental", 3)
    ws, srv, fw = (_service_id(tenant, n) for n in ("Managed Workstation", "Managed Server",
                                                    "Firewall Management"))  # fmt: skip
    endpoint, seats, after_hours = (_service_id(tenant, n) for n in (
        "Endpoint Security", "Microsoft 365 Seat", "After-hours Support Add-on"))  # fmt: skip
    managed = shown[-1]
    values = {f.path: f.value for f in managed.fields}
    assert values["sla"] == 2 and values["contract_period"] == 1  # Premium 24x7, Monthly
    assert values["contract_name"] == "Acme Dental - Managed Gold"
    assert values["contract_start"] == FIRST_OF_NEXT_MONTH.isoformat()
    assert (
        values["contract_end"]
        == (FIRST_OF_NEXT_MONTH + relativedelta(years=1, days=-1)).isoformat()
    )
    assert {k: values[f"services.{k}"] for k in (ws, srv, fw, endpoint, seats, after_hours)} == {
        ws: len(workstations), srv: len(servers), fw: len(firewalls),
        endpoint: len(workstations) + len(servers),  # counted, not tied (attach: false)
        seats: _contacts(tenant, "Acme Dental"), after_hours: 1,
    }  # fmt: skip
    assert sorted(values[f"devices.{ws}"]) == workstations
    assert sorted(values[f"devices.{fw}"]) == firewalls and values[f"devices.{endpoint}"] == []
    assert {"sla", "contract_name", f"services.{ws}", f"devices.{ws}"} <= managed.from_playbook
    people = shown[1]
    assert _field(people, "team_add").value == [
        resource_id(tenant, "Raj", "Iyer"), resource_id(tenant, "Sofia", "Mendez")
    ]  # fmt: skip
    assert "team_add" in people.from_playbook and "primary_contact" not in people.from_playbook
    assert review.playbook is not None and review.playbook.changed == ()
    assert review.playbook.lines(EN)[0] == "Playbook: Managed Gold"
    assert "Service level agreement (SLA)" in review.playbook.lines(EN)[1]
    assert review.playbook.lines(ES)[:1] == ["Playbook: Gestionado Oro"]
    assert review.playbook.lines(ES)[1].startswith("Del playbook: Tipo de cliente, ")


async def test_a_changed_answer_is_kept_when_the_playbook_changes_and_the_rest_follows_it(
    playbook_service: OnboardingService, tenant: Tenant
) -> None:
    marta, view = await _acme_on_gold(playbook_service, walk=True)
    draft_id = view.draft_id
    # On the managed page the person picks another SLA: now theirs, not the playbook's.
    review = await playbook_service.save_page(marta, draft_id, {"sla": "4"})
    assert isinstance(review, Review) and review.playbook is not None
    assert review.playbook.changed == ("sla",)
    assert review.playbook.lines(EN)[2] == (
        "Changed from the playbook: Service level agreement (SLA)"
    )
    first = await _back_to_first_page(playbook_service, marta, draft_id)
    view = await playbook_service.change(marta, first.draft_id, {"playbook": "managed-essentials"})
    assert [n.message(EN) for n in view.notices] == [
        "The playbook Managed Essentials filled in 13 answers. Check each page: you can change "
        "any of them.",
        "Your own answers were kept (the playbook has other values): Service level agreement "
        "(SLA).",
    ]
    values = await _answers(playbook_service, draft_id)
    assert values["sla"] == 4  # kept: Healthcare Priority, chosen by hand
    assert values["contract_name"] == "Acme Dental - Managed Essentials"
    assert values["team_add"] == [resource_id(tenant, "Sofia", "Mendez")]
    assert values["billing_admins"] == [resource_id(tenant, "Tom", "Keller")]
    assert "tax_region" not in values  # Gold's, and Essentials gives none: cleared
    ws, endpoint = (
        _service_id(tenant, "Managed Workstation"),
        _service_id(tenant, "Endpoint Security"),
    )
    assert sorted(values["services"]) == sorted([ws, endpoint])
    assert list(values["devices"]) == [ws]
    review = await playbook_service.review(marta, draft_id)
    assert isinstance(review, Review) and review.playbook is not None
    assert review.playbook.changed == ("sla",)


async def test_an_answer_given_before_the_playbook_is_kept_and_said_so(
    playbook_service: OnboardingService,
) -> None:
    for who, filled, said in (
        (MARTA, "The playbook Managed Gold filled in 15 answers.",
         "Your own answers were kept (the playbook has other values): Client type."),
        (DAN, "El playbook Gestionado Oro rellenó 15 respuestas.",
         "Se mantuvieron sus propias respuestas (el playbook tiene otros valores): Tipo de cliente."),
    ):  # fmt: skip
        actor = await person(playbook_service, *who)
        start = await playbook_service.start(actor, "Acme Dental")
        view = await playbook_service.change(
            actor, start.draft_id, {"client_type": "break_fix", "playbook": "managed-gold"}
        )
        assert _field(view, "client_type").value == "break_fix"
        t = Translator(actor.locale)
        assert [n.key for n in view.notices] == ["playbook.filled", "playbook.kept"]
        assert view.notices[0].message(t).startswith(filled)
        assert view.notices[1].message(t) == said
        assert t(view.notices[1].key, **view.notices[1].params) == said  # plain text parameters


async def test_no_playbook_clears_what_it_filled_but_not_what_the_person_changed(
    playbook_service: OnboardingService,
) -> None:
    marta, view = await _acme_on_gold(playbook_service, walk=True)
    await playbook_service.save_page(marta, view.draft_id, {"contract_name": "Acme - our words"})
    first = await _back_to_first_page(playbook_service, marta, view.draft_id)
    cleared = await playbook_service.change(marta, first.draft_id, {"playbook": None})
    assert cleared.notices[0].message(EN) == (
        "The answers the playbook Managed Gold had filled in were cleared, except the ones you "
        "changed."
    )
    assert _field(cleared, "client_type").value is None
    values = await _answers(playbook_service, view.draft_id)
    assert values["contract_name"] == "Acme - our words" and "sla" not in values
    assert values["convert_to_customer"] is True  # back to the form's default


async def test_another_company_refills_names_units_and_devices(
    playbook_service: OnboardingService, tenant: Tenant
) -> None:
    marta = await person(playbook_service, *MARTA)
    view = await playbook_service.start(marta)
    view = await playbook_service.change(marta, view.draft_id, {"playbook": "managed-gold"})
    assert [n.key for n in view.notices] == ["playbook.filled", "playbook.needs_company"]
    blue = company_id(tenant, "Blue Ridge Logistics")
    view = await playbook_service.change(marta, view.draft_id, {"company": str(blue)})
    values = await _answers(playbook_service, view.draft_id)
    ws = _service_id(tenant, "Managed Workstation")
    assert values["contract_name"] == "Blue Ridge Logistics - Managed Gold"
    assert values["services"][ws] == len(_devices(tenant, "Blue Ridge Logistics", 1))
    assert sorted(values["devices"][ws]) == _devices(tenant, "Blue Ridge Logistics", 1)


async def test_a_service_with_nothing_to_count_is_left_out_and_the_page_says_so(
    playbook_service: OnboardingService, tenant: Tenant
) -> None:
    marta = await person(playbook_service, *MARTA)
    view = await playbook_service.start(marta, "Hillside Veterinary")  # a lead: no devices yet
    view = await playbook_service.change(marta, view.draft_id, {"playbook": "managed-gold"})
    assert [n.message(EN) for n in view.notices][1:4] == [
        "Managed Workstation was left out: Hillside Veterinary has no active Workstation "
        "devices to count.",
        "Managed Server was left out: Hillside Veterinary has no active Server devices to count.",
        "Firewall Management was left out: Hillside Veterinary has no active Network Device "
        "devices to count.",
    ]
    values = await _answers(playbook_service, view.draft_id)
    assert sorted(values["services"]) == sorted(
        _service_id(tenant, n) for n in ("Microsoft 365 Seat", "After-hours Support Add-on")
    )
    assert "devices" not in values


async def test_answers_given_with_a_playbook_override_it(
    playbook_service: OnboardingService, tenant: Tenant
) -> None:
    marta = await person(playbook_service, *MARTA)
    answers, issues = await playbook_service.resolve_labels(marta, {
        "company": "Acme Dental", "playbook": "Gestionado Oro", "contract_period": "Quarterly",
    })  # fmt: skip
    assert issues == [] and answers["playbook"] == "managed-gold"
    view = await playbook_service.start(marta, answers=answers)
    review = await playbook_service.review(marta, view.draft_id)
    assert isinstance(review, Review) and review.playbook is not None
    assert review.playbook.changed == ("contract_period",)
    contract = next(s for s in review.plan.steps if s.kind == "contract")
    assert {c.field: c.after for c in contract.changes}["contractPeriodType"] == "Quarterly"


async def test_an_unknown_playbook_in_given_answers_is_an_issue_on_it(
    playbook_service: OnboardingService,
) -> None:
    marta = await person(playbook_service, *MARTA)
    _, issues = await playbook_service.resolve_labels(marta, {"playbook": "Managed Platinum"})
    assert [(i.question, i.message(EN)) for i in issues] == [
        ("playbook", 'No valid playbook is called "Managed Platinum" (onboard-bot playbooks '
                     "lists them, and why any is not offered)."),
    ]  # fmt: skip


async def test_the_onboarding_note_names_the_playbook_and_what_was_answered_otherwise(
    playbook_service: OnboardingService, tenant: Tenant
) -> None:
    marta, view = await _acme_on_gold(playbook_service, walk=True)
    review = await playbook_service.save_page(marta, view.draft_id, {"sla": "4"})
    assert isinstance(review, Review)
    report = await playbook_service.apply(marta, view.draft_id, origin={})
    assert not isinstance(report, Invalid) and report.status == "applied", report
    acme = company_id(tenant, "Acme Dental")
    note = next(n for n in tenant.table("CompanyNotes").values() if n["companyID"] == acme)
    assert note["note"].splitlines()[1:3] == [
        "Playbook: Managed Gold (managed-gold)",
        "Answered otherwise than the playbook: Service level agreement (SLA)",
    ]
    contracts = [c for c in tenant.table("Contracts").values() if c["companyID"] == acme]
    assert [(c["contractName"], c["serviceLevelAgreementID"]) for c in contracts] == [
        ("Acme Dental - Managed Gold", 4)
    ]


async def test_a_playbook_withdrawn_meanwhile_leaves_the_answers_as_they_are(
    playbook_service: OnboardingService, catalog: Playbooks, playbooks_dir: Path, tenant: Tenant
) -> None:
    marta, view = await _acme_on_gold(playbook_service)
    gold = playbooks_dir / "managed-gold.yaml"
    write(playbooks_dir, gold.name, gold.read_text().replace("Premium 24x7", "Premium 24/7"))
    await catalog.refresh()
    blue = company_id(tenant, "Blue Ridge Logistics")
    view = await playbook_service.change(marta, view.draft_id, {"company": str(blue)})
    assert [n.message(EN) for n in view.notices] == [
        'The playbook "managed-gold" is no longer offered (it no longer matches Autotask): '
        "your answers are kept as they are."
    ]
    values = await _answers(playbook_service, view.draft_id)
    assert values["contract_name"] == "Acme Dental - Managed Gold" and values["sla"] == 2
