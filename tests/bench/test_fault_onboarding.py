"""The fault benchmark, small enough for CI: onboardings through the Slack handlers under injected
Autotask faults end applied, with no duplicate record and no step missing from Autotask."""

from __future__ import annotations

import pytest

from bench.fault_onboarding import duplicate_rows, main, run
from services.autotask.sandbox import FAULT_KINDS, build_tenant
from tests.onboarding_support import company_id, technicians


async def test_onboardings_under_faults_complete_without_duplicates_or_lost_steps() -> None:
    totals, clean = await run(onboardings=3, rate=0.1, seed=7)
    assert clean.planned > 10 and clean.duplicates == clean.lost == 0
    assert sum(totals.injected.values()) > 0
    assert [o.completed for o in totals.onboardings] == [True] * 3
    assert totals.duplicates == 0
    assert totals.lost == 0


async def test_runs_that_fail_are_finished_by_the_retry_button_without_duplicates() -> None:
    # Without the step's own retries, a lost answer or a timeout ends the run failed: the
    # person presses Retry on the progress message, and what already landed is not written again.
    totals, _ = await run(onboardings=2, rate=0.2, seed=11, step_retries=0)
    assert all(o.completed for o in totals.onboardings)
    assert sum(o.retries for o in totals.onboardings) > 0
    assert totals.injected["answer_lost"] > 0 and set(totals.injected) <= set(FAULT_KINDS)
    assert totals.duplicates == 0
    assert totals.lost == 0


def test_the_bench_prints_its_counts_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--onboardings", "1"]) == 0
    printed = capsys.readouterr().out
    assert "completed without the user doing anything: 1/1" in printed
    assert "duplicate rows: 0" in printed and "lost steps: 0" in printed


def test_a_second_record_with_the_same_natural_key_counts_as_a_duplicate() -> None:
    tenant = build_tenant()
    before = duplicate_rows(tenant)
    owner = technicians(tenant, 1)[0]
    note = {"actionType": 1, "assignedResourceID": owner, "name": "Onboarding [ref]",
            "startDateTime": "2027-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}  # fmt: skip
    cid = company_id(tenant, "Acme Dental")
    tenant.create("CompanyNotes", {**note, "note": "first"}, parent_id=cid)
    assert duplicate_rows(tenant) == before
    tenant.create("CompanyNotes", {**note, "note": "again"}, parent_id=cid)
    assert duplicate_rows(tenant) == before + 1
