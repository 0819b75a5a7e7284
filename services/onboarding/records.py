"""What a run records and reports: step views, the run report, and the bookkeeping between the
plan and the stored step rows (kept in step with the plan, portal passwords recovered, the run's
status made to agree with its steps)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.onboarding.plan import Plan
from services.onboarding.steps import Change, PortalSecret, PortalUserStep, Step, Write
from services.store.tables import StepRun

logger = logging.getLogger(__name__)

TERMINAL = ("done", "skipped")


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
    # Another process took the run over mid-way: this one stopped and recorded nothing more
    lease_lost: bool = False
    kind: str = "client"  # or "devices": attaching devices that arrived later (plan_devices.py)

    @property
    def failed(self) -> StepView | None:
        return next((s for s in self.steps if s.state == "failed"), None)


def agreeing(status: str, states: Sequence[str]) -> str:
    """The run's status as its steps tell it: a failed step makes the run failed, and a run
    with a step neither done nor skipped is not applied (it is left to be resumed)."""
    if status in ("applied", "applying") and "failed" in states:
        return "failed"
    if status == "applied" and any(s not in TERMINAL for s in states):
        logger.error("run reported applied with unfinished steps; left to be resumed")
        return "applying"
    return status


@dataclass(frozen=True)
class Ended:
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


def view_of(step: Step, state: str, error: str | None) -> StepView:
    """What the step row now holds, built from the step itself (no read back)."""
    return StepView(step.key, step.kind, dict(step.params), [c.to_json() for c in step.changes],
                    state, error)  # fmt: skip


def recover_portal_passwords(steps: list[Step], states: Mapping[str, str]) -> list[Step]:
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


def sync_runs(
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
