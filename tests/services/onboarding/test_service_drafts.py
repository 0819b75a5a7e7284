"""The onboarding service's form use cases, end to end against the sandbox: start, pages, back,
typeahead, and who may act on a draft."""

from __future__ import annotations

import asyncio

import pytest

from services.autotask.sandbox import SandboxTransport, Tenant
from services.i18n import Translator
from services.onboarding.actor import (
    DraftGoneError,
    NotAnOnboarderError,
    NotYourDraftError,
)
from services.onboarding.outcomes import Invalid, PageView, Review
from services.onboarding.service import OnboardingService
from tests.onboarding_support import company_id, contacts_of, devices_of
from tests.services.onboarding.conftest import DAN, MARTA, VISITOR, person


async def test_start_with_no_match_says_so_and_leaves_the_company_open(
    service: OnboardingService,
) -> None:
    marta = await person(service, *MARTA)
    view = await service.start(marta, "Zzyzx Holdings")
    assert (view.page, view.number, view.first) == ("client", 1, True)
    assert [n.message(Translator("en")) for n in view.notices] == [
        'No organization matches "Zzyzx Holdings".'
    ]
    company = next(f for f in view.fields if f.path == "company")
    assert company.value is None and company.searched and view.matches == []


async def test_start_with_one_match_preselects_it(
    service: OnboardingService, tenant: Tenant
) -> None:
    view = await service.start(await person(service, *MARTA), "acme dental")
    company = next(f for f in view.fields if f.path == "company")
    acme = company_id(tenant, "Acme Dental")
    assert company.value == acme
    assert [o.label for o in company.selected] == ["Acme Dental"]
    assert view.notices == []


async def test_start_with_several_matches_offers_just_those(service: OnboardingService) -> None:
    view = await service.start(await person(service, *MARTA), "Harbor")
    company = next(f for f in view.fields if f.path == "company")
    assert company.value is None
    assert sorted(o.label for o in company.options) == [
        "Harbor Group", "Harbor Group - Corpus Christi", "Harbor Group - Galveston",
        "Harbor Group - Port Aransas",
    ]  # fmt: skip
    assert not company.searched and len(view.matches) == 4


async def _on_managed_page(service: OnboardingService, tenant: Tenant) -> tuple[str, int]:
    marta = await person(service, *MARTA)
    acme = company_id(tenant, "Acme Dental")
    view = await service.start(marta, "Acme Dental")
    result = await service.save_page(marta, view.draft_id, {"company": str(acme),
                                                             "client_type": "managed"})  # fmt: skip
    for page in ("people", "organization", "billing"):
        assert isinstance(result, PageView) and result.page == page, result
        result = await service.save_page(marta, view.draft_id, {})
    assert isinstance(result, PageView) and result.page == "managed" and result.last
    return view.draft_id, acme


async def test_unreadable_units_are_an_issue_on_their_field_before_any_autotask_call(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    draft_id, _ = await _on_managed_page(service, tenant)
    marta = await person(service, *MARTA)
    sandbox.reset_log()
    result = await service.save_page(marta, draft_id, {"services": ["1", "2"], "services.1": "²",
                                                       "services.2": "9" * 5000})  # fmt: skip
    assert isinstance(result, Invalid) and result.page == "managed"
    assert [(i.question, i.key) for i in result.issues] == [
        ("services.1", "errors.whole_number"), ("services.2", "errors.whole_number"),
    ]  # fmt: skip
    assert sandbox.calls == []  # nothing to check in Autotask until the values can be read
    view = await service.page(marta, draft_id, issues=result.issues)
    assert [f.path for f in view.fields if f.path.startswith("services")] == [
        "services", "services.1", "services.2",
    ]  # the choice of services was kept; each units field is there to correct  # fmt: skip
    assert [i.question for i in view.issues] == ["services.1", "services.2"]


async def test_tenant_issues_come_back_on_the_compound_field_paths(
    service: OnboardingService, tenant: Tenant
) -> None:
    draft_id, acme = await _on_managed_page(service, tenant)
    marta = await person(service, *MARTA)
    stranger = devices_of(tenant, company_id(tenant, "Lakeside Realty"))[0]
    mine = devices_of(tenant, acme)
    result = await service.save_page(marta, draft_id, {
        "sla": "2", "contract_name": "Acme - Managed", "contract_start": "2027-01-01",
        "contract_end": "2027-12-31", "services": ["1", "2"], "services.1": "5", "services.2": "0",
        "devices.1": [str(mine[0])], "devices.2": [str(stranger)],
    })  # fmt: skip
    assert isinstance(result, Invalid)
    found = {(i.question, i.key) for i in result.issues}
    assert found == {
        ("services.2", "errors.units_positive"),
        ("devices.2", "errors.device_not_in_company"),
    }
    view = await service.page(marta, draft_id)
    assert next(f for f in view.fields if f.path == "services.1").value == 5  # all kept


async def test_a_billing_contract_named_2024_goes_through_to_the_review(
    service: OnboardingService, tenant: Tenant
) -> None:
    marta = await person(service, *MARTA)
    delta = company_id(tenant, "Delta Print Works")
    view = await service.start(marta, "Delta Print Works")
    await service.save_page(marta, view.draft_id, {"company": delta, "client_type": "break_fix"})
    for _ in range(3):
        await service.save_page(marta, view.draft_id, {})
    bad = await service.save_page(marta, view.draft_id, {
        "billing_contracts.1.type": "1", "billing_contracts.1.name": "2024",
        "billing_contracts.1.start": "2027-06-01", "billing_contracts.1.end": "2027-01-01",
    })  # fmt: skip
    assert isinstance(bad, Invalid)
    assert [(i.question, i.key) for i in bad.issues] == [
        ("billing_contracts.1.end", "errors.end_after_start")
    ]  # the slot the user typed into, although it is the first contract
    review = await service.save_page(marta, view.draft_id, {
        "billing_contracts.1.type": "1", "billing_contracts.1.name": "2024",
        "billing_contracts.1.start": "2027-01-01", "billing_contracts.1.end": "2027-12-31",
    })  # fmt: skip
    assert isinstance(review, Review), review
    assert 'Time & Materials contract "2024" (SLA -)' in [
        s.describe(Translator("en")) for s in review.plan.changes
    ]


async def test_back_keeps_what_was_typed_and_review_back_returns_to_the_last_page(
    service: OnboardingService, tenant: Tenant
) -> None:
    draft_id, _ = await _on_managed_page(service, tenant)
    marta = await person(service, *MARTA)
    back = await service.back(marta, draft_id, {"contract_name": "Kept while going back"})
    assert back.page == "billing"
    again = await service.save_page(marta, draft_id, {})
    assert isinstance(again, PageView) and again.page == "managed"
    assert next(f for f in again.fields if f.path == "contract_name").value == (
        "Kept while going back"
    )
    assert (await service.back(marta, draft_id, from_review=True)).page == "managed"


async def test_a_dependent_answer_redraws_the_page_with_its_new_fields(
    service: OnboardingService, tenant: Tenant
) -> None:
    draft_id, _ = await _on_managed_page(service, tenant)
    marta = await person(service, *MARTA)
    view = await service.change(marta, draft_id, {"services": ["2"]})
    paths = [f.path for f in view.fields]
    assert "services.2" in paths and "devices.2" in paths and "services.1" not in paths
    units = next(f for f in view.fields if f.path == "services.2")
    assert units.label_params == {"service": "Managed Server"} and units.value == 1


async def test_a_slow_check_calls_on_slow_once_and_still_returns_the_next_page(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    marta = await person(service, *MARTA)
    view = await service.start(marta, "Acme Dental")
    service.ack_budget = 0.05
    sandbox.latency = 0.2
    slow: list[str] = []

    async def on_slow(doing: str) -> None:
        slow.append(doing)

    values = {"company": company_id(tenant, "Acme Dental"), "client_type": "managed"}
    result = await service.save_page(marta, view.draft_id, values, on_slow=on_slow)
    assert slow == ["checking"]
    assert isinstance(result, PageView) and result.page == "people"


async def test_typeahead_answers_within_its_budget_from_cache(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    marta = await person(service, *MARTA)
    acme = company_id(tenant, "Acme Dental")
    view = await service.start(marta, "Acme Dental")
    await service.save_page(marta, view.draft_id, {"company": acme, "client_type": "managed"})
    sandbox.latency = 1.0
    assert await service.suggest(marta, view.draft_id, "primary_contact", budget=0.05) == []
    await asyncio.sleep(1.2)  # the list finished loading into the cache meanwhile
    sandbox.reset_log()
    found = await service.suggest(marta, view.draft_id, "primary_contact", "", budget=0.05)
    names = {c["firstName"] + " " + c["lastName"] for c in contacts_of(tenant, acme)}
    assert found and {o.label.split(" <")[0] for o in found} <= names
    assert sandbox.calls == []
    companies = await service.suggest(marta, view.draft_id, "parent_company", "harbor", budget=1)
    assert companies[0].label == "Harbor Group"


async def test_someone_elses_draft_is_refused_at_every_use_case(
    service: OnboardingService, tenant: Tenant
) -> None:
    marta, dan = await person(service, *MARTA), await person(service, *DAN)
    view = await service.start(marta, "Acme Dental")
    for attempt in (
        service.resume(dan, view.draft_id),
        service.page(dan, view.draft_id),
        service.save_page(dan, view.draft_id, {"client_type": "break_fix"}),
        service.change(dan, view.draft_id, {"company": "1"}),
        service.back(dan, view.draft_id),
        service.review(dan, view.draft_id),
        service.apply(dan, view.draft_id),
        service.discard(dan, view.draft_id),
    ):
        with pytest.raises(NotYourDraftError) as refused:
            await attempt
        assert "otra persona" in refused.value.message(Translator(dan.locale))
    assert await service.suggest(dan, view.draft_id, "primary_contact") == []
    assert await service.offer(dan) is None
    mine = await service.offer(marta)
    assert mine is not None and mine.id == view.draft_id and mine.company_name == "Acme Dental"


async def test_a_person_removed_from_the_onboarders_is_stopped_at_their_next_click(
    service: OnboardingService, tenant: Tenant
) -> None:
    marta = await person(service, *MARTA)
    view = await service.start(marta, "Acme Dental")
    resource = next(r for r in tenant.table("Resources").values() if r["firstName"] == "Marta")
    resource["isActive"] = False  # left the company: her Autotask resource is deactivated
    await service.runner.reference.refresh_all()
    with pytest.raises(NotAnOnboarderError) as refused:
        await service.save_page(marta, view.draft_id, {"client_type": "managed"})
    assert "marta.ruiz@brightline-it.example may not onboard" in refused.value.message(
        Translator("en")
    )
    with pytest.raises(NotAnOnboarderError):
        await service.start(marta)
    visitor = await person(service, *VISITOR)
    assert not visitor.may_onboard
    with pytest.raises(NotAnOnboarderError):
        await service.start(visitor, "Acme Dental")


async def test_answers_given_up_front_prefill_the_draft(
    service: OnboardingService, tenant: Tenant
) -> None:
    marta = await person(service, *MARTA)
    answers, issues = await service.resolve_labels(
        marta, {"company": "Acme Dental", "client_type": "managed", "sla": "Premium 24x7"}
    )
    assert issues == []
    view = await service.start(marta, answers=answers)
    assert next(f for f in view.fields if f.path == "company").value == company_id(
        tenant, "Acme Dental"
    )
    review = await service.review(marta, view.draft_id)
    assert isinstance(review, Invalid) and review.page == "managed"  # the contract is missing
    assert {i.question for i in review.issues} >= {"contract_name", "contract_start"}
    await service.discard(marta, view.draft_id)
    with pytest.raises(DraftGoneError):
        await service.resume(marta, view.draft_id)


async def test_given_answers_may_name_any_of_a_long_list(
    service: OnboardingService, tenant: Tenant
) -> None:
    metro = company_id(tenant, "Metro Health Partners")  # 1,200 contacts, far past a select's 100
    last = max(contacts_of(tenant, metro), key=lambda c: (c["firstName"], c["lastName"], c["id"]))
    answers, issues = await service.resolve_labels(
        await person(service, *MARTA),
        {"company": "Metro Health Partners", "primary_contact": last["emailAddress"]},
    )
    assert issues == [] and answers["primary_contact"] == last["id"]


async def test_a_company_id_that_does_not_exist_is_an_issue_on_the_company_field(
    service: OnboardingService, sandbox: SandboxTransport
) -> None:
    """A signed payload can carry any option value: page 1 checks the company is in Autotask."""
    marta = await person(service, *MARTA)
    view = await service.start(marta)
    missing = max(sandbox.tenant.table("Companies")) + 1000
    result = await service.save_page(marta, view.draft_id, {"company": str(missing),
                                                            "client_type": "managed"})  # fmt: skip
    assert isinstance(result, Invalid) and result.page == "client"
    assert [(i.question, i.key) for i in result.issues] == [("company", "errors.company_not_found")]
