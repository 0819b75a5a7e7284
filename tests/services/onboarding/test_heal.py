"""Runs that heal themselves, through the onboarding service: writes whose answers were lost are
looked up instead of failing, transient failures are waited out (and shown), refusals stop with
Retry, and a run whose process died is picked up by another process, in the same progress
message, without anyone pressing anything. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.autotask.sandbox import Fault, SandboxTransport, Tenant, build_tenant
from services.onboarding.outcomes import Review
from services.onboarding.runner import RunReport
from services.onboarding.runs import GAVE_UP
from services.store.db import Database
from tests.onboarding_support import managed_answers, snapshot, writes
from tests.services.onboarding.conftest import MARTA, person
from tests.services.onboarding.heal_support import (
    Clock,
    DieAfterWrite,
    LoseFirstAnswers,
    Process,
    ProcessKilled,
    database,
    process,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path,
                        lambda: str(request.getfixturevalue("postgres_url"))) as db:  # fmt: skip
        yield db


def _answers(tenant: Tenant) -> dict[str, Any]:
    return managed_answers(tenant, team=2, portal=1, devices=3)


async def _apply(p: Process, tenant: Tenant) -> RunReport:
    marta = await person(p.service, *MARTA)
    draft = await p.service.start(marta, answers=_answers(tenant))
    review = await p.service.review(marta, draft.draft_id)
    assert isinstance(review, Review), review
    report = await p.service.apply(marta, draft.draft_id, origin={"channel": "C1"})
    assert isinstance(report, RunReport)
    return report


async def _clean(tmp_path: Path) -> tuple[dict[str, list[dict[str, Any]]], Counter[str]]:
    """The tenant after one uninterrupted run, and its writes by endpoint."""
    tenant = build_tenant()
    sandbox = SandboxTransport(tenant)
    async with database("sqlite", tmp_path / "..", lambda: "") as db, process(db, sandbox) as p:
        sandbox.reset_log()
        assert (await _apply(p, tenant)).status == "applied"
    return snapshot(tenant), _writes_by_endpoint(sandbox)


def _writes_by_endpoint(sandbox: SandboxTransport) -> Counter[str]:
    return Counter(f"{c.method} {c.path}" for c in writes(sandbox.calls) if c.status == 200)


async def test_writes_that_land_but_answer_500_end_applied_with_no_retry_and_nothing_twice(
    any_db: Database, tmp_path: Path
) -> None:
    expected, clean_writes = await _clean(tmp_path)
    tenant = build_tenant()
    sandbox = SandboxTransport(tenant)
    lossy = LoseFirstAnswers(sandbox)
    async with process(any_db, lossy) as p:
        sandbox.reset_log()
        report = await _apply(p, tenant)

    assert report.status == "applied" and report.failed is None  # nobody had to press Retry
    assert lossy.lost >= 12  # every write's first answer was lost
    assert snapshot(tenant) == expected  # no duplicate row
    posts = _writes_by_endpoint(sandbox)
    creates = [k for k in posts if k.startswith("POST")]
    # each create was sent once (its record was found, not created again) ...
    assert {k: posts[k] for k in creates} == {k: clean_writes[k] for k in creates}
    # ... and the portal user whose answer was lost got a new password by PATCH, the one the
    # requester received
    [(requester, secrets)] = p.presenter.delivered
    assert requester.user_id == MARTA[0] and len(secrets) == 1
    patches = [c for c in writes(sandbox.calls)
               if c.entity == "ClientPortalUsers" and c.method == "PATCH"]  # fmt: skip
    assert patches and patches[-1].body["password"] == secrets[0].password
    final = p.presenter.finished[-1][1]
    assert final.state == "applied"


async def test_a_write_refused_before_it_landed_is_sent_again_after_waiting_shown_to_the_user(
    any_db: Database, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    teams = f"Companies/{_answers(tenant)['company']}/Teams"  # the create, not the query
    sandbox.fail_next(Fault(500, [], method="POST", path=teams), count=2)
    async with process(any_db, sandbox) as p:
        report = await _apply(p, tenant)
    assert report.status == "applied"
    team = [r["resourceID"] for r in tenant.table("CompanyTeams").values()
            if r["companyID"] == report.company_id]  # fmt: skip
    assert len(team) == len(set(team))
    waiting = [v for _, v in p.presenter.updates if v.state == "waiting"]
    assert len(waiting) == 2  # twice "waiting for Autotask", with the reason and when
    assert waiting[0].waiting is not None and waiting[0].waiting.failure == "unreachable"
    assert waiting[0].waiting.said == "HTTP 500 with no error text"
    assert waiting[0].current is not None and waiting[0].current.kind == "team_add"
    after = p.presenter.updates[-1][1]
    assert after.waiting is None  # then it went on applying


async def test_a_business_rule_refusal_stops_at_once_with_autotasks_text_and_retry(
    any_db: Database, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    rule = "The Resource is already a member of this company's team."
    teams = f"Companies/{_answers(tenant)['company']}/Teams"
    sandbox.fail_next(Fault(500, [rule], method="POST", path=teams))
    async with process(any_db, sandbox) as p:
        sandbox.reset_log()
        report = await _apply(p, tenant)
    assert report.status == "failed" and report.failed is not None
    assert rule in (report.failed.error or "")
    assert sum(1 for c in writes(sandbox.calls) if c.entity == "CompanyTeams") == 1  # no retry
    final = p.presenter.finished[-1][1]
    assert final.state == "failed" and final.failed is not None


async def test_an_exhausted_budget_fails_with_retry_and_the_retry_finishes(
    any_db: Database, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    notes = f"Companies/{_answers(tenant)['company']}/Notes"
    sandbox.fail_next(Fault(500, [], method="POST", path=notes), count=3)
    async with process(any_db, sandbox, step_retries=2) as p:
        report = await _apply(p, tenant)
        assert report.status == "failed" and report.failed is not None
        assert report.failed.kind == "note"
        marta = await person(p.service, *MARTA)
        [listed] = await p.service.unfinished(marta)
        assert listed.id == report.onboarding_id and listed.status == "failed"
        again = await p.service.retry(marta, report.onboarding_id)
    assert again.status == "applied"
    assert sum(1 for n in tenant.table("CompanyNotes").values()
               if n["companyID"] == report.company_id and n["name"].startswith("Onboarding")) == 1  # fmt: skip


async def test_a_run_whose_process_died_is_resumed_by_another_in_the_same_message(
    any_db: Database, tmp_path: Path
) -> None:
    expected, _ = await _clean(tmp_path)
    tenant = build_tenant()
    sandbox = SandboxTransport(tenant)
    clock = Clock()
    async with process(any_db, DieAfterWrite(sandbox, 3), clock=clock, name="dead") as first:
        with pytest.raises(ProcessKilled):
            await _apply(first, tenant)
    opened = first.presenter.opened
    assert len(opened) == 1

    async with (
        process(any_db, sandbox, clock=clock, name="bot-2") as second,
        process(any_db, sandbox, clock=clock, name="bot-3") as third,
    ):
        assert await second.service.resume_orphans() == []  # its lease is still live
        marta = await person(second.service, *MARTA)
        assert await second.service.unfinished(marta) == []  # under way, as far as anyone knows
        clock.now += timedelta(minutes=2, seconds=1)  # the dead process's lease runs out
        [stranded] = await second.service.unfinished(marta)
        assert stranded.stranded and stranded.status == "applying"
        taken = await second.service.resume_orphans()
        assert await third.service.resume_orphans() == []  # claimed once, by one process
        assert taken == [stranded.id]
        await second.service.runs.settle()

    assert snapshot(tenant) == expected  # nothing written twice
    updates = second.presenter.updates
    assert updates and {ref["message"] for ref, _ in updates} == {1}  # the first message
    assert updates[0][1].state == "resumed"
    [told] = second.presenter.told_resumed
    assert told.requester.user_id == MARTA[0]
    ref, final = second.presenter.finished[-1]
    assert ref == {"message": 1} and final.state == "applied"
    assert not first.presenter.finished and not third.presenter.updates


async def test_a_run_interrupted_too_often_is_shown_failed_with_retry_not_resumed_again(
    any_db: Database, tenant: Tenant, sandbox: SandboxTransport
) -> None:
    clock = Clock()
    async with process(any_db, DieAfterWrite(sandbox, 2), clock=clock, name="a") as first:
        with pytest.raises(ProcessKilled):
            await _apply(first, tenant)
    clock.now += timedelta(minutes=3)
    async with process(any_db, DieAfterWrite(sandbox, 2), clock=clock, auto_resumes=1,
                       name="b") as second:  # fmt: skip
        [onboarding_id] = await second.service.resume_orphans()
        with pytest.raises(ProcessKilled):  # and it died again
            await second.service.runs.settle()
    clock.now += timedelta(minutes=3)
    async with process(any_db, sandbox, clock=clock, auto_resumes=1, name="c") as third:
        assert await third.service.resume_orphans() == []  # not resumed a second time
        ref, shown = third.presenter.finished[-1]
        assert ref == {"message": 1} and shown.state == "failed"
        assert shown.failed is not None and shown.failed.error == GAVE_UP.format(n=1)
        marta = await person(third.service, *MARTA)
        [listed] = await third.service.unfinished(marta)
        assert listed.id == onboarding_id and listed.failed is not None
        report = await third.service.retry(marta, onboarding_id)  # the person decides
    assert report.status == "applied"
