"""Storage on SQLite (always) and PostgreSQL (when reachable; required in CI)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import Tenant
from services.directory import Directory
from services.onboarding.options import OptionSources
from services.onboarding.outcomes import Review
from services.onboarding.runner import Runner
from services.onboarding.service import OnboardingService
from services.store import repositories as repo
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import check, upgrade
from tests.onboarding_support import break_fix_answers, managed_answers, submitted


async def test_migrations_reach_head_and_match_the_tables_in_code(database_url: str) -> None:
    await upgrade(database_url)
    await check(database_url)  # raises if the models and the migrated schema differ
    await upgrade(database_url)  # idempotent at start-up


async def test_a_draft_survives_a_restart(database_url: str) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    async with Database(engine).transaction() as session:
        draft = await repo.save_draft(session, platform="slack", user_id="U1", page="billing",
                                      answers={"company": 7, "tax_id": "74-1"}, company_id=7)  # fmt: skip
        draft_id = draft.id
    await engine.dispose()

    engine = make_engine(database_url)  # a new process
    async with Database(engine).transaction() as session:
        found = await repo.latest_draft(session, platform="slack", user_id="U1")
    await engine.dispose()
    assert found is not None and found.id == draft_id
    assert found.answers == {"company": 7, "tax_id": "74-1"} and found.page == "billing"
    assert found.updated_at.tzinfo is not None


async def test_only_one_of_two_concurrent_claims_wins(database_url: str) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    db = Database(engine)
    async with db.transaction() as session:
        onboarding = await repo.create_onboarding(session, company_id=1, company_name="A", platform="t",
                                                  requested_by="U1", request={})  # fmt: skip
    now = datetime.now(UTC)

    async def claim(owner: str) -> bool:
        async with db.transaction() as session:
            return await repo.claim_onboarding(session, onboarding_id=onboarding.id, owner=owner, now=now,
                                               lease=timedelta(minutes=2))  # fmt: skip

    results = await asyncio.gather(*(claim(f"replica-{i}") for i in range(4)))
    assert sorted(results) == [False, False, False, True]
    later = now + timedelta(minutes=3)
    async with db.transaction() as session:  # an expired lease can be taken over
        assert await repo.claim_onboarding(session, onboarding_id=onboarding.id, owner="replica-9",
                                           now=later, lease=timedelta(minutes=2))  # fmt: skip
    await engine.dispose()


async def test_a_full_onboarding_is_stored_and_audited(
    database_url: str, autotask: AutotaskClient, tenant: Tenant
) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    db = Database(engine)
    runner = Runner(client=autotask, reference=ReferenceData(autotask), db=db)
    onboarding_id, _ = await submitted(
        runner, managed_answers(tenant), platform="t", requested_by="U1"
    )
    assert onboarding_id
    report = await runner.apply(onboarding_id)
    assert report.status == "applied"
    async with db.transaction() as session:
        stored = await repo.get_onboarding(session, onboarding_id=onboarding_id)
        events = await repo.audit_trail(session, onboarding_id=onboarding_id)
        listed = await repo.list_onboardings(session, requested_by="U1")
    await engine.dispose()
    assert stored is not None and stored.status == "applied" and stored.lease_owner is None
    assert [s.state for s in stored.steps] == ["done"] * len(stored.steps)
    assert sum(1 for e in events if e.entity) >= len(stored.steps)
    assert [o.id for o in listed] == [onboarding_id]


async def test_two_apply_clicks_through_the_service_start_one_run(
    database_url: str, autotask: AutotaskClient, tenant: Tenant
) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    db = Database(engine)
    reference = ReferenceData(autotask)
    service = OnboardingService(runner=Runner(client=autotask, reference=reference, db=db),
                                options=OptionSources(autotask, reference), db=db,
                                directory=Directory(reference))  # fmt: skip
    marta = await service.identify(platform="slack", user_id="U1", locale="en",
                                   email="marta.ruiz@brightline-it.example")  # fmt: skip
    draft_id = (await service.start(marta, answers=break_fix_answers(tenant))).draft_id
    assert isinstance(await service.review(marta, draft_id), Review)
    outcomes = await asyncio.gather(
        service.apply(marta, draft_id), service.apply(marta, draft_id), return_exceptions=True
    )
    async with db.transaction() as session:
        stored = await repo.list_onboardings(session, requested_by="U1")
        drafts = await repo.list_drafts(session, platform="slack", user_id="U1")
    await engine.dispose()
    assert sorted(type(o).__name__ for o in outcomes) == ["BusyError", "RunReport"]
    assert [o.status for o in stored] == ["applied"] and drafts == []
