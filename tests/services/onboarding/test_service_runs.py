"""The onboarding service's runs, end to end against the sandbox: review then apply (and how often
the company is read), progress through the presenter, retry, cancel, and who may do them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from services.autotask.sandbox import Fault, SandboxTransport, Tenant
from services.onboarding.actor import (
    Actor,
    BusyError,
    NotYourOnboardingError,
    OnboardingGoneError,
)
from services.onboarding.outcomes import Invalid, Review
from services.onboarding.presenter import RunView
from services.onboarding.runner import RunReport
from services.onboarding.service import OnboardingService
from services.store import repositories as repo
from services.store.tables import Onboarding
from tests.onboarding_support import break_fix_answers, company_id, managed_answers, writes
from tests.services.onboarding.conftest import (
    BEATRIZ,
    DAN,
    MARTA,
    Clock,
    RecordingPresenter,
    person,
)


def company_reads(sandbox: SandboxTransport, company: int) -> int:
    """GETs of the company itself: one per read of its whole state (facts)."""
    return sum(1 for c in sandbox.calls if c.method == "GET" and c.path == f"Companies/{company}")


async def _reviewed(
    service: OnboardingService, actor: Actor, answers: dict[str, Any]
) -> tuple[str, Review]:
    view = await service.start(actor, answers=answers)
    review = await service.review(actor, view.draft_id)
    assert isinstance(review, Review), review
    return view.draft_id, review


async def _applied(service: OnboardingService, actor: Actor, answers: dict[str, Any]) -> RunReport:
    draft_id, _ = await _reviewed(service, actor, answers)
    report = await service.apply(actor, draft_id, origin={"channel": "C1"})
    assert isinstance(report, RunReport)
    return report


async def test_apply_within_a_minute_of_the_review_reads_the_company_once(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport, clock: Clock
) -> None:
    marta = await person(service, *MARTA)
    answers = managed_answers(tenant)
    sandbox.reset_log()
    draft_id, review = await _reviewed(service, marta, answers)
    clock.now += 59
    report = await service.apply(marta, draft_id)
    assert isinstance(report, RunReport) and report.status == "applied", report
    assert company_reads(sandbox, answers["company"]) == 1
    assert len(report.steps) == len(review.plan.steps)


async def test_apply_after_a_minute_reads_autotask_again_and_sees_what_changed(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport, clock: Clock
) -> None:
    marta = await person(service, *MARTA)
    answers = managed_answers(tenant)
    sandbox.reset_log()
    draft_id, _ = await _reviewed(service, marta, answers)
    contact = tenant.table("Contacts")[answers["primary_contact"]]
    contact["companyID"] = company_id(tenant, "Lakeside Realty")  # moved away meanwhile
    clock.now += 61
    outcome = await service.apply(marta, draft_id)
    assert company_reads(sandbox, answers["company"]) == 2
    assert isinstance(outcome, Invalid) and outcome.page == "people"
    assert {(i.question, i.key) for i in outcome.issues} == {
        ("primary_contact", "errors.contact_not_in_company"),
        ("portal_contacts", "errors.contact_not_in_company"),  # the same contact, on both
    }
    assert writes(sandbox.calls) == []
    view = await service.resume(marta, draft_id)  # the draft is back, on the page to fix
    assert view.page == "people"


async def test_changed_answers_are_planned_again_at_apply(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    marta = await person(service, *MARTA)
    answers = managed_answers(tenant)
    draft_id, _ = await _reviewed(service, marta, answers)
    await service.back(marta, draft_id, from_review=True)
    await service.back(marta, draft_id, {"contract_name": "Renamed after the review"})
    sandbox.reset_log()
    report = await service.apply(marta, draft_id)
    assert isinstance(report, RunReport) and report.status == "applied"
    assert company_reads(sandbox, answers["company"]) == 1  # re-read: the review was stale
    names = [c["contractName"] for c in tenant.table("Contracts").values()
             if c["companyID"] == answers["company"]]  # fmt: skip
    assert names == ["Renamed after the review"]


async def test_progress_goes_through_the_requesters_presenter_and_passwords_to_them_only(
    service: OnboardingService, tenant: Tenant, presenter: RecordingPresenter
) -> None:
    marta = await person(service, *MARTA)
    report = await _applied(service, marta, managed_answers(tenant))
    assert report.status == "applied" and report.secrets == []  # not handed to the caller
    [opened] = presenter.opened
    assert opened.origin == {"channel": "C1"} and opened.requester.user_id == "U1"
    assert opened.status == "applying" and all(s.state == "pending" for s in opened.steps)
    assert {run.steps[0].state for _, run in presenter.updates} >= {"running", "done"}
    [(ref, final)] = presenter.finished
    assert ref == {"message": 1} and final.status == "applied"
    assert final.link and f"AccountID={report.company_id}" in final.link
    [(to, secrets)] = presenter.delivered
    assert to.user_id == "U1" and len(secrets) == 2 and all(s.password for s in secrets)
    async with service.db.transaction() as session:
        stored = await repo.get_onboarding(session, onboarding_id=report.onboarding_id)
        drafts = await repo.list_drafts(session, platform="test", user_id="U1")
    assert stored is not None and stored.meta["progress"] == {"message": 1}
    assert drafts == []  # the draft became the onboarding


async def test_two_apply_clicks_start_one_run(
    service: OnboardingService, tenant: Tenant, presenter: RecordingPresenter
) -> None:
    marta = await person(service, *MARTA)
    draft_id, _ = await _reviewed(service, marta, break_fix_answers(tenant))
    outcomes = await asyncio.gather(
        service.apply(marta, draft_id), service.apply(marta, draft_id), return_exceptions=True
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["BusyError", "RunReport"]
    async with service.db.transaction() as session:
        count = (await session.execute(select(func.count()).select_from(Onboarding))).scalar_one()
    assert count == 1 and len(presenter.opened) == 1


async def test_retry_is_for_the_requester_or_an_admin_and_updates_the_same_message(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport,
    presenter: RecordingPresenter,
) -> None:  # fmt: skip
    marta, dan, admin = [await person(service, *who) for who in (MARTA, DAN, BEATRIZ)]
    sandbox.fail_next(Fault(status=500, errors=["Contract module is not active."], method="POST",
                            path="Contracts"))  # fmt: skip
    failed = await _applied(service, marta, managed_answers(tenant))
    assert failed.status == "failed" and failed.failed is not None
    assert failed.failed.error and "Contract module is not active." in failed.failed.error
    with pytest.raises(NotYourOnboardingError):
        await service.retry(dan, failed.onboarding_id)
    with pytest.raises(NotYourOnboardingError):
        await service.cancel(dan, failed.onboarding_id)
    with pytest.raises(OnboardingGoneError):
        await service.retry(marta, "nope")
    retried = await service.retry(admin, failed.onboarding_id)
    assert retried.status == "applied"
    assert len(presenter.opened) == 1  # the first message, updated in place
    assert [ref for ref, _ in presenter.finished] == [{"message": 1}, {"message": 1}]
    assert [to.user_id for to, _ in presenter.delivered] == ["U1", "U1"]  # never to the admin


async def test_cancel_stops_the_run_after_the_step_in_flight(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport,
    presenter: RecordingPresenter,
) -> None:  # fmt: skip
    marta = await person(service, *MARTA)
    draft_id, _ = await _reviewed(service, marta, break_fix_answers(tenant))
    cancelled: list[bool] = []

    async def cancel_while_running(run: RunView) -> None:
        if not cancelled and any(s.state == "running" for s in run.steps):
            cancelled.append(await service.cancel(marta, run.onboarding_id))

    presenter.on_update = cancel_while_running
    report = await service.apply(marta, draft_id)
    assert isinstance(report, RunReport) and cancelled == [True]
    assert report.status == "cancelled"
    states = [s.state for s in report.steps]
    assert states[0] == "done" and set(states[1:]) == {"cancelled"}
    assert len(writes(sandbox.calls)) == 1  # the write in flight landed; nothing after it
    async with service.db.transaction() as session:
        trail = await repo.audit_trail(session, onboarding_id=report.onboarding_id)
    assert [e.action for e in trail].count("update") == 1  # that write is on the audit trail
    with pytest.raises(NotYourOnboardingError):
        await service.cancel(await person(service, *DAN), report.onboarding_id)
    resumed = await service.retry(marta, report.onboarding_id)
    assert resumed.status == "applied"


async def test_a_retry_while_the_run_is_under_way_is_busy(
    service: OnboardingService, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    marta = await person(service, *MARTA)
    draft_id, _ = await _reviewed(service, marta, break_fix_answers(tenant))
    sandbox.latency = 0.05
    run = asyncio.ensure_future(service.apply(marta, draft_id))
    while True:
        async with service.db.transaction() as session:
            found = await repo.list_onboardings(session, requested_by="U1")
        if found and found[0].status == "applying":
            break
        await asyncio.sleep(0.01)
    with pytest.raises(BusyError):
        await service.retry(marta, found[0].id)
    finished = await run
    assert isinstance(finished, RunReport) and finished.status == "applied"


async def test_status_lists_onboardings_for_onboarders(
    service: OnboardingService, tenant: Tenant
) -> None:
    marta, dan = await person(service, *MARTA), await person(service, *DAN)
    await _applied(service, marta, break_fix_answers(tenant))
    [everyone] = await service.onboardings(dan)
    assert (everyone.company_name, everyone.status) == ("Cedar & Pine Law", "applied")
    assert everyone.done == everyone.total and everyone.requester.user_id == "U1"
    assert await service.onboardings(dan, mine=True) == []
    assert await service.onboardings(marta, company="cedar") == [everyone]
    assert await service.onboardings(marta, company="acme") == []


class Reminders:
    """The reminders side of the service (a Protocol): which onboardings were handed over."""

    def __init__(self) -> None:
        self.started: list[str] = []

    async def start(self, onboarding_id: str) -> list[int]:
        self.started.append(onboarding_id)
        return []


async def test_after_the_run_reminders_start_once_for_an_incomplete_invoice_setup(
    service: OnboardingService, tenant: Tenant
) -> None:
    reminders = Reminders()
    service.runs.reminders = reminders
    marta = await person(service, *MARTA)
    answers = managed_answers(tenant) | {"tax_id": None}
    report = await _applied(service, marta, answers)
    assert report.invoice_missing == ["tax_id"] and reminders.started == [report.onboarding_id]
    again = await service.retry(marta, report.onboarding_id)  # a re-run: all "no change"
    assert again.status == "applied" and reminders.started == [report.onboarding_id]


async def test_a_complete_invoice_setup_starts_no_reminders(
    service: OnboardingService, tenant: Tenant
) -> None:
    reminders = Reminders()
    service.runs.reminders = reminders
    report = await _applied(service, await person(service, *MARTA), managed_answers(tenant))
    assert report.status == "applied" and report.invoice_missing == []
    assert reminders.started == []
