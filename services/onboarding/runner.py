"""Validate, plan, store and apply onboardings; resume and retry them without duplicates.

A run holds a short lease on its onboarding row, so two front-ends (or replicas) never apply the
same onboarding at once. Each step is recorded before and after its Autotask write in its own
transaction. A resumed or retried run re-reads Autotask and re-plans: whatever already landed,
even if the process died before recording it, is then "no change", so nothing is written twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services import log_context
from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError
from services.autotask.reference import ReferenceData
from services.onboarding.facts import CompanyFacts, load_company_facts, load_lookups, load_related
from services.onboarding.plan import Plan, build_plan
from services.onboarding.request import Issue, OnboardingRequest, validate
from services.onboarding.steps import (
    Change,
    PortalSecret,
    PortalUserStep,
    RunContext,
    Step,
    Write,
)
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import StepRun

logger = logging.getLogger(__name__)

TERMINAL = ("done", "skipped")


class AlreadyRunningError(Exception):
    """Another front-end or replica is applying this onboarding right now."""


class UnknownOnboardingError(Exception):
    pass


@dataclass(frozen=True)
class StepView:
    key: str
    kind: str
    params: dict[str, Any]
    diff: list[dict[str, Any]]
    state: str
    error: str | None = None

    @classmethod
    def of(cls, run: StepRun) -> StepView:
        return cls(run.key, run.kind, dict(run.description.get("params", {})), list(run.diff),
                   run.state, run.error)  # fmt: skip


@dataclass
class RunReport:
    onboarding_id: str
    company_id: int
    company_name: str
    status: str
    steps: list[StepView]
    secrets: list[PortalSecret] = field(default_factory=list)
    invoice_missing: list[str] = field(default_factory=list)

    @property
    def failed(self) -> StepView | None:
        return next((s for s in self.steps if s.state == "failed"), None)


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
    ) -> None:
        self.client = client
        self.reference = reference
        self.db = db
        self.impersonate = impersonate
        self.lease = lease
        self.clock = clock
        self.owner = owner or uuid.uuid4().hex
        self.billing_admin_emails = list(billing_admin_emails)
        self._fresh: dict[str, Plan] = {}
        # Set by the process on SIGTERM: runs stop between steps and hand their lease back.
        self.draining = False
        self._facts_cache: dict[tuple[int, tuple[int, ...]], tuple[float, CompanyFacts]] = {}

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

    async def store(
        self,
        request: OnboardingRequest,
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
            _sync_runs(onboarding.id, [], plan, session_add=session.add)
            await repo.record_event(session, actor=requested_by, action="planned",
                                    onboarding_id=onboarding.id,
                                    detail={"steps": len(plan.steps), "changes": len(plan.changes)})  # fmt: skip
            if consume_draft and draft_id is not None:
                await repo.delete_draft(session, draft_id=draft_id)
            onboarding_id = onboarding.id
        self._fresh[onboarding_id] = plan
        return onboarding_id

    # ----- the run ----------------------------------------------------------------------------

    async def apply(self, onboarding_id: str, *, on_progress: Progress | None = None) -> RunReport:
        """Apply (or resume, or retry) an onboarding. Done steps are never applied again."""
        with log_context.run(onboarding_id, "plan"):  # every line of the run names it and its step
            return await self._apply(onboarding_id, on_progress)

    async def _apply(self, onboarding_id: str, on_progress: Progress | None) -> RunReport:
        async with self.db.transaction() as session:
            claimed = await repo.claim_onboarding(
                session,
                onboarding_id=onboarding_id,
                owner=self.owner,
                now=self.clock(),
                lease=self.lease,
            )
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                raise UnknownOnboardingError(onboarding_id)
            if not claimed:
                raise AlreadyRunningError(onboarding_id)
            request = OnboardingRequest.model_validate(onboarding.request)
            actor = onboarding.requested_by
            impersonate = onboarding.requester_resource_id if self.impersonate else None
            runs = {run.key: run for run in onboarding.steps}
            states = {key: run.state for key, run in runs.items()}

        plan = self._fresh.pop(onboarding_id, None)
        if plan is None or any(s != "pending" for s in states.values()):
            try:
                facts = await self.facts(request.model_dump())
            except AutotaskError as exc:  # not a step: nothing ran. Let the next retry in at once
                await self._finish(onboarding_id, "failed", None, [], error_all=str(exc))
                raise
            if facts is None:
                return await self._finish(
                    onboarding_id, "failed", None, [], error_all="errors.company_not_found"
                )
            plan = build_plan(request, facts, today=self.clock().date())
        steps = _recover_portal_passwords(plan.steps, states)
        async with self.db.transaction() as session:
            existing = await repo.step_runs(session, onboarding_id=onboarding_id)
            _sync_runs(onboarding_id, list(existing), plan, session_add=session.add, steps=steps)

        ctx = RunContext(self.client, plan.company_id, impersonate)
        status = "applied"
        action: str | None = None  # the audit event, when not run_<status>
        ended: _Ended | None = None
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
            started = await self._boundary(onboarding_id, actor, ended, (step, state), on_progress)
            ended = None
            if not started:
                status = "cancelled"
                break
            if not step.has_changes:
                continue
            try:
                writes = await step.apply(ctx)
            except AutotaskError as exc:
                logger.warning("onboarding %s step %s failed: %s", onboarding_id, step.key, exc)
                ended = _Ended(step, "failed", error=str(exc))
                status = "failed"
                break
            ended = _Ended(step, "done", writes)
        if ended is not None:
            await self._boundary(onboarding_id, actor, ended, None, on_progress)
        log_context.step.set("finish")
        return await self._finish(onboarding_id, status, plan, ctx.secrets, action=action)

    async def report(self, onboarding_id: str) -> RunReport:
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                raise UnknownOnboardingError(onboarding_id)
            return RunReport(onboarding.id, onboarding.company_id, onboarding.company_name,
                             onboarding.status, [StepView.of(r) for r in onboarding.steps])  # fmt: skip

    # ----- bookkeeping ------------------------------------------------------------------------

    async def _boundary(
        self,
        onboarding_id: str,
        actor: str,
        ended: _Ended | None,
        begin: tuple[Step, str] | None,
        on_progress: Progress | None,
    ) -> bool:
        """One transaction between two steps: the step that ended (its state and audit events),
        the cancel check, and the next step's start (with the lease renewed when it will write).
        ``False`` when a cancel was asked for: every step not done is then marked cancelled."""
        now = self.clock()
        views: list[StepView] = []
        started = True
        async with self.db.transaction() as session:
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
                views.append(_view(ended.step, ended.state, ended.error))
            if begin is not None:
                step, state = begin
                if await repo.cancel_requested(session, onboarding_id=onboarding_id):
                    await repo.cancel_remaining(session, onboarding_id=onboarding_id)
                    started = False
                else:
                    await repo.begin_step(session, onboarding_id=onboarding_id, key=step.key,
                                          state=state, now=now)  # fmt: skip
                    if state == "running":
                        await repo.claim_onboarding(session, onboarding_id=onboarding_id, owner=self.owner,
                                                    now=now, lease=self.lease)  # fmt: skip
                    views.append(_view(step, state, None))
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
        self, onboarding_id: str, status: str, plan: Plan | None, secrets: list[PortalSecret],
        *, error_all: str | None = None, action: str | None = None,
    ) -> RunReport:  # fmt: skip
        async with self.db.transaction() as session:
            await repo.release_onboarding(
                session, onboarding_id=onboarding_id, owner=self.owner, status=status
            )
            await repo.record_event(session, actor=self.owner, action=action or f"run_{status}", onboarding_id=onboarding_id,
                                    detail={"error": error_all} if error_all else {})  # fmt: skip
        logger.info("run ended: %s", action or status)
        report = await self.report(onboarding_id)
        report.secrets = secrets
        report.invoice_missing = plan.invoice_missing if plan else []
        return report


@dataclass(frozen=True)
class _Ended:
    """How a step that was started ended: done with its writes, or failed with Autotask's text."""

    step: Step
    state: str
    writes: list[Write] = field(default_factory=list)
    error: str | None = None

    @property
    def result(self) -> dict[str, Any] | None:
        if self.state != "done":
            return None
        return {
            "writes": [{"action": w.action, "entity": w.entity, "id": w.id} for w in self.writes]
        }


def _view(step: Step, state: str, error: str | None) -> StepView:
    """What the step row now holds, built from the step itself (no read back)."""
    return StepView(step.key, step.kind, dict(step.params), [c.to_json() for c in step.changes],
                    state, error)  # fmt: skip


def _recover_portal_passwords(steps: list[Step], states: Mapping[str, str]) -> list[Step]:
    """A portal user created by a run that died before recording it has a password nobody got:
    give it a new one now, so the requester still receives a working password once."""
    out: list[Step] = []
    for step in steps:
        if (
            isinstance(step, PortalUserStep)
            and states.get(step.key) == "running"
            and not step.has_changes
            and step.existing_id is not None
        ):
            step = PortalUserStep(step.key, step.kind, step.params, [Change("password", None, "(new)")],
                                  step.contact_id, step.contact_name, step.user_name, {}, step.existing_id,
                                  new_password=True)  # fmt: skip
        out.append(step)
    return out


def _sync_runs(
    onboarding_id: str,
    existing: list[StepRun],
    plan: Plan,
    *,
    session_add: Callable[[Any], None],
    steps: list[Step] | None = None,
) -> None:
    """Make the stored step runs mirror the plan; keep the state of steps already done."""
    by_key = {run.key: run for run in existing}
    wanted = steps if steps is not None else plan.steps
    for position, step in enumerate(wanted):
        run = by_key.pop(step.key, None)
        if run is None:
            run = StepRun(
                onboarding_id=onboarding_id,
                key=step.key,
                kind=step.kind,
                state="pending",
                attempts=0,
            )
            session_add(run)
        run.position = position
        run.description = {"kind": step.kind, "params": step.params}
        if run.state not in TERMINAL:
            run.diff = [c.to_json() for c in step.changes]
            run.state = "pending"
            run.error = None
    for run in by_key.values():  # planned before, nothing left to do now
        if run.state not in TERMINAL:
            run.state = "skipped"
            run.position = len(wanted) + run.position
