"""Validate, plan, store and apply onboardings; resume and retry them without duplicates.

A run holds a short lease on its onboarding row (``lease.py``), so two front-ends (or replicas)
never apply the same onboarding at once: renewed on a heartbeat while it works, and checked before
every Autotask write and in every step boundary's transaction, so a run that lost it stops
writing and records nothing more. Each step is recorded before and after its Autotask write. A
write whose answer was lost is looked up and retried within a bounded back-off
(``attempts.py``). A resumed or retried run re-reads Autotask and re-plans: whatever already
landed, even if the process died before recording it, is then "no change", so nothing is
written twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services import log_context
from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError
from services.autotask.limits import RetryPolicy
from services.autotask.reference import ReferenceData
from services.onboarding.attempts import RunHooks, StepAttempts, Wait
from services.onboarding.facts import CompanyFacts, load_company_facts, load_lookups, load_related
from services.onboarding.lease import Lease, LeaseKeeper, LeaseLostError
from services.onboarding.plan import Plan, build_plan
from services.onboarding.plan_devices import KIND, DevicesRequest, build_device_plan, is_devices
from services.onboarding.records import (
    Ended,
    RunReport,
    StepView,
    agreeing,
    recover_portal_passwords,
    sync_runs,
    view_of,
)
from services.onboarding.request import Issue, OnboardingRequest, validate
from services.onboarding.steps import (
    PortalSecret,
    RunContext,
    Step,
)
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import Onboarding

logger = logging.getLogger(__name__)

__all__ = [  # the run's report and step views live in records.py; callers import them here
    "AlreadyRunningError", "Preview", "RunReport", "Runner", "StepView", "UnknownOnboardingError",
]  # fmt: skip

STEP_BACKOFF = RetryPolicy(base_delay=2.0, max_delay=30.0)  # between a step's attempts


class AlreadyRunningError(Exception):
    """Another front-end or replica is applying this onboarding right now."""


class UnknownOnboardingError(Exception):
    pass


class _HandBackError(Exception):
    """The process is draining: stop the step's back-off and hand the run back now."""


@dataclass
class Preview:
    request: OnboardingRequest | None
    issues: list[Issue]
    plan: Plan | None = None


Progress = Callable[[StepView], Awaitable[None]]


class Runner:
    def __init__(
        self,
        *,
        client: AutotaskClient,
        reference: ReferenceData,
        db: Database,
        impersonate: bool = True,
        lease: timedelta = timedelta(minutes=2),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str | None = None,
        billing_admin_emails: Sequence[str] = (),
        step_retries: int = 3,
        step_backoff: RetryPolicy = STEP_BACKOFF,
        heartbeat: float | None = None,
    ) -> None:
        self.client = client
        self.reference = reference
        self.db = db
        self.impersonate = impersonate
        self.lease = lease
        self.clock = clock
        self.owner = owner or uuid.uuid4().hex
        self.billing_admin_emails = list(billing_admin_emails)
        self.step_retries, self.step_backoff = step_retries, step_backoff
        self.heartbeat = heartbeat  # seconds between renewals; default a third of the lease
        self._fresh: dict[str, Plan] = {}
        self._drained = asyncio.Event()
        self._facts_cache: dict[tuple[int, tuple[int, ...]], tuple[float, CompanyFacts]] = {}

    @property
    def draining(self) -> bool:
        """Set by the process on SIGTERM: runs stop between steps (a back-off under way stops at
        once) and hand their lease back."""
        return self._drained.is_set()

    @draining.setter
    def draining(self, value: bool) -> None:
        if value:
            self._drained.set()
        else:
            self._drained.clear()

    # ----- before the run ---------------------------------------------------------------------

    async def facts(
        self, answers: Mapping[str, Any], *, max_age: float = 0.0
    ) -> CompanyFacts | None:
        """The company's snapshot; ``max_age`` > 0 accepts a recent one (form pages, not runs)."""
        company = answers.get("company")
        if company in (None, ""):
            return None
        related = [answers.get("parent_company"), *(answers.get("child_companies") or [])]
        ids = tuple(sorted(int(i) for i in related if i not in (None, "")))
        key = (int(company), ids)
        cached = self._facts_cache.get(key)
        now = time.monotonic()
        if max_age > 0 and cached is not None and now - cached[0] <= max_age:
            return cached[1]
        # The company's own state does not depend on which parent or children the answers name:
        # choosing them on a later page reads just those companies.
        same = self._facts_cache.get((int(company), ()))
        if max_age > 0 and ids and same is not None and now - same[0] <= max_age:
            known = replace(same[1], related=await load_related(self.client, int(company), ids))
            self._facts_cache[key] = (same[0], known)  # as old as the state it was built on
            return known
        lookups = await load_lookups(self.reference, self.billing_admin_emails)
        facts = await load_company_facts(self.client, lookups, int(company), related_ids=ids)
        if facts is not None:
            self._facts_cache[key] = (now, facts)
            self._facts_cache[(int(company), ())] = (now, replace(facts, related={}))
        return facts

    async def check_page(self, answers: Mapping[str, Any], page: str) -> list[Issue]:
        """The issues of one form page, against a snapshot at most a minute old."""
        try:
            facts = await self.facts(answers, max_age=60.0)
        except (TypeError, ValueError):
            facts = None
        if facts is None and answers.get("company") not in (None, ""):
            # A payload can name any id: the company must exist before page 1 is passed.
            gone = Issue(("company",), "errors.company_not_found")
            return [gone] if gone.page == page else []
        _, issues = validate(answers, facts)
        return [i for i in issues if i.page == page]

    async def preview(self, answers: Mapping[str, Any]) -> Preview:
        """Validate against the tenant and, when valid, plan: what the review page shows."""
        try:
            facts = await self.facts(answers)
        except (TypeError, ValueError):
            facts = None
        if facts is None and answers.get("company") not in (None, ""):
            return Preview(None, [Issue(("company",), "errors.company_not_found")])
        request, issues = validate(answers, facts)
        if request is None or facts is None:
            return Preview(request, issues)
        return Preview(request, [], build_plan(request, facts, today=self.clock().date()))

    def _plan(self, request: OnboardingRequest | DevicesRequest, facts: CompanyFacts) -> Plan:
        """A client onboarding's plan, or a devices onboarding's (``plan_devices.py``)."""
        if isinstance(request, DevicesRequest):
            return build_device_plan(request, facts, today=self.clock().date())
        return build_plan(request, facts, today=self.clock().date())

    async def store(
        self,
        request: OnboardingRequest | DevicesRequest,
        plan: Plan,
        *,
        platform: str,
        requested_by: str,
        requester_resource_id: int | None = None,
        draft_id: str | None = None,
        meta: dict[str, Any] | None = None,
        consume_draft: bool = False,
    ) -> str:
        """Store an onboarding with a plan built moments ago; the first ``apply`` uses that plan.
        ``consume_draft`` deletes the draft in the same transaction: it became this onboarding."""
        async with self.db.transaction() as session:
            onboarding = await repo.create_onboarding(
                session, company_id=plan.company_id, company_name=plan.company_name,
                platform=platform, requested_by=requested_by,
                request=request.model_dump(mode="json"),
                requester_resource_id=requester_resource_id, draft_id=draft_id, meta=meta,
            )  # fmt: skip
            sync_runs(onboarding.id, [], plan, session_add=session.add)
            await repo.record_event(session, actor=requested_by, action="planned",
                                    onboarding_id=onboarding.id,
                                    detail={"steps": len(plan.steps), "changes": len(plan.changes)})  # fmt: skip
            if consume_draft and draft_id is not None:
                await repo.delete_draft(session, draft_id=draft_id)
            onboarding_id = onboarding.id
        self._fresh[onboarding_id] = plan
        return onboarding_id

    # ----- the run ----------------------------------------------------------------------------

    async def claim(
        self, onboarding_id: str, *, pickup: bool = False, planned_before: datetime | None = None
    ) -> Lease | None:
        """Take the run's lease (``None`` when another process holds a live one). ``pickup``
        takes it only as an orphan: an interrupted run nobody holds, counted as a resume."""
        token = uuid.uuid4().hex
        async with self.db.transaction() as session:
            taken = await repo.claim_onboarding(
                session, onboarding_id=onboarding_id, owner=self.owner, now=self.clock(),
                lease=self.lease, token=token, pickup=pickup, planned_before=planned_before,
            )  # fmt: skip
        return Lease(onboarding_id, token, pickup) if taken else None

    async def apply(
        self,
        onboarding_id: str,
        *,
        on_progress: Progress | None = None,
        on_wait: Wait | None = None,
        lease: Lease | None = None,
    ) -> RunReport:
        """Apply (or resume, or retry) an onboarding. Done steps are never applied again.
        ``lease``: already claimed (an orphan pickup); otherwise it is claimed here."""
        with log_context.run(onboarding_id, "plan"):  # every line of the run names it and its step
            if lease is None:
                lease = await self.claim(onboarding_id)
                if lease is None:
                    if await self._missing(onboarding_id):
                        raise UnknownOnboardingError(onboarding_id)
                    raise AlreadyRunningError(onboarding_id)
            keeper = LeaseKeeper(self.db, lease, duration=self.lease, clock=self.clock,
                                 every=self.heartbeat)  # fmt: skip
            keeper.start()
            try:
                return await self._apply(keeper, on_progress, on_wait)
            except LeaseLostError:
                logger.warning("run stopped: another process took it over; nothing more is "
                               "written or recorded by this one")  # fmt: skip
                report = await self.report(onboarding_id)
                report.lease_lost = True
                return report
            finally:
                await keeper.stop()

    async def _missing(self, onboarding_id: str) -> bool:
        async with self.db.transaction() as session:
            return await session.get(Onboarding, onboarding_id) is None

    async def _apply(
        self, keeper: LeaseKeeper, on_progress: Progress | None, on_wait: Wait | None
    ) -> RunReport:
        onboarding_id = keeper.lease.onboarding_id
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                raise UnknownOnboardingError(onboarding_id)
            raw = dict(onboarding.request)
            request: OnboardingRequest | DevicesRequest = (
                DevicesRequest.model_validate(raw)
                if is_devices(raw)
                else OnboardingRequest.model_validate(raw)
            )
            actor = onboarding.requested_by
            impersonate = onboarding.requester_resource_id if self.impersonate else None
            runs = {run.key: run for run in onboarding.steps}
            states = {key: run.state for key, run in runs.items()}

        plan = self._fresh.pop(onboarding_id, None)
        if plan is None or any(s != "pending" for s in states.values()):
            try:
                facts = await self.facts(request.model_dump())
            except AutotaskError as exc:  # not a step: nothing ran. Let the next retry in at once
                await self._finish(keeper, "failed", None, [], error_all=str(exc))
                raise
            if facts is None:
                return await self._finish(
                    keeper, "failed", None, [], error_all="errors.company_not_found"
                )
            plan = self._plan(request, facts)
        steps = recover_portal_passwords(plan.steps, states)
        async with self.db.transaction() as session:
            await keeper.renew(session)
            existing = await repo.step_runs(session, onboarding_id=onboarding_id)
            sync_runs(onboarding_id, list(existing), plan, session_add=session.add, steps=steps)

        hooks = RunHooks(keeper.renew, on_wait, self.clock)
        ctx = RunContext(self.client, plan.company_id, impersonate, hooks=hooks)
        attempts = StepAttempts(retries=self.step_retries, policy=self.step_backoff,
                                pause=self._pause, hooks=hooks)  # fmt: skip
        status = "applied"
        action: str | None = None  # the audit event, when not run_<status>
        ended: Ended | None = None
        logger.info("run started by %s: %d step(s), %d already done", self.owner, len(steps),
                    sum(states.get(s.key) == "done" for s in steps))  # fmt: skip
        for step in steps:
            if states.get(step.key) == "done":
                continue
            if self.draining:  # still "applying", with no lease: another replica takes it over
                status, action = "applying", "run_handed_back"
                break
            log_context.step.set(step.key)
            state = "running" if step.has_changes else "skipped"
            started = await self._boundary(keeper, actor, ended, (step, state), on_progress)
            ended = None
            if not started:
                status = "cancelled"
                break
            if not step.has_changes:
                continue
            hooks.step = step.key
            try:
                writes = await keeper.guard(attempts.run(step, ctx))
            except _HandBackError:  # the step is re-checked against Autotask by the next run
                status, action = "applying", "run_handed_back"
                break
            except AutotaskError as exc:
                logger.warning("onboarding %s step %s failed: %s", onboarding_id, step.key, exc)
                ended = Ended(step, "failed", error=str(exc))
                status = "failed"
                break
            ended = Ended(step, "done", writes)
        if ended is not None:
            await self._boundary(keeper, actor, ended, None, on_progress)
        log_context.step.set("finish")
        return await self._finish(keeper, status, plan, ctx.secrets, action=action)

    async def _pause(self, seconds: float) -> None:
        """A back-off between a step's attempts; a drain ends it at once."""
        try:
            await asyncio.wait_for(self._drained.wait(), seconds)
        except TimeoutError:
            return
        raise _HandBackError()

    async def report(self, onboarding_id: str) -> RunReport:
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                raise UnknownOnboardingError(onboarding_id)
            return RunReport(onboarding.id, onboarding.company_id, onboarding.company_name,
                             onboarding.status, [StepView.of(r) for r in onboarding.steps],
                             kind=KIND if is_devices(onboarding.request) else "client")  # fmt: skip

    # ----- bookkeeping ------------------------------------------------------------------------

    async def _boundary(
        self,
        keeper: LeaseKeeper,
        actor: str,
        ended: Ended | None,
        begin: tuple[Step, str] | None,
        on_progress: Progress | None,
    ) -> bool:
        """One transaction between two steps: the step that ended (its state and audit events),
        the cancel check, and the next step's start (with the lease renewed when it will write).
        ``False`` when a cancel was asked for: every step not done is then marked cancelled.
        The lease is checked (and renewed) first: a run that lost it records nothing."""
        onboarding_id = keeper.lease.onboarding_id
        now = self.clock()
        views: list[StepView] = []
        started = True
        async with self.db.transaction() as session:
            await keeper.renew(session)
            if ended is not None:
                await repo.end_step(
                    session, onboarding_id=onboarding_id, key=ended.step.key, state=ended.state,
                    now=now, error=ended.error, result=ended.result,
                )  # fmt: skip
                for write in ended.writes:
                    await repo.record_event(
                        session, actor=actor, action=write.action, onboarding_id=onboarding_id,
                        entity=write.entity, entity_id=write.id,
                        detail={"step": ended.step.key, "fields": write.fields},
                    )  # fmt: skip
                if ended.error is not None:
                    await repo.record_event(session, actor=actor, action="step_failed", onboarding_id=onboarding_id,
                                            detail={"step": ended.step.key, "error": ended.error})  # fmt: skip
                views.append(view_of(ended.step, ended.state, ended.error))
            if begin is not None:
                step, state = begin
                if await repo.cancel_requested(session, onboarding_id=onboarding_id):
                    await repo.cancel_remaining(session, onboarding_id=onboarding_id)
                    started = False
                else:
                    await repo.begin_step(session, onboarding_id=onboarding_id, key=step.key,
                                          state=state, now=now)  # fmt: skip
                    views.append(view_of(step, state, None))
        for view in views:  # each line under its own step, though one transaction ends one
            token = log_context.step.set(view.key)  # and begins the next
            logger.info("step %s: %s", view.key, view.state)
            log_context.step.reset(token)
        if on_progress is not None:
            for view in views:
                await on_progress(view)
        return started

    async def release_leases(self) -> int:
        """Hand back the runs this process still holds: at shutdown, after the drain bound."""
        async with self.db.transaction() as session:
            return await repo.release_leases(session, owner=self.owner)

    async def _finish(
        self, keeper: LeaseKeeper, status: str, plan: Plan | None, secrets: list[PortalSecret],
        *, error_all: str | None = None, action: str | None = None,
    ) -> RunReport:  # fmt: skip
        """Store the outcome, made to agree with the step rows (never "applied" beside a failed
        or unfinished step), and end the claim; nothing is stored if the lease was lost."""
        onboarding_id = keeper.lease.onboarding_id
        async with self.db.transaction() as session:
            rows = await repo.step_runs(session, onboarding_id=onboarding_id)
            status = agreeing(status, [r.state for r in rows])
            if not await repo.release_onboarding(
                session, onboarding_id=onboarding_id, token=keeper.lease.token, status=status
            ):
                raise LeaseLostError(onboarding_id)
            await repo.record_event(session, actor=self.owner, action=action or f"run_{status}", onboarding_id=onboarding_id,
                                    detail={"error": error_all} if error_all else {})  # fmt: skip
        logger.info("run ended: %s", action or status)
        report = await self.report(onboarding_id)
        report.secrets = secrets
        report.invoice_missing = plan.invoice_missing if plan else []
        return report
