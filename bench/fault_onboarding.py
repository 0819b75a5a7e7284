"""Full onboardings through the Slack handlers under about 10 % injected Autotask faults.

Scenario: 20 full managed-services onboardings (the acme-dental answers: team, primary contact,
Client Portal users, invoice settings, a recurring contract with services and devices, the note
and the to-do), each by a fresh bot against a fresh sandbox tenant, driven as a person drives them
in Slack: signed requests into the real Bolt app (``/onboard``, the dependent redraws, each page's
``view_submission``, the review's Apply) and, when the channel's progress message ends failed,
its Retry button (a ``block_actions`` click), as often as it takes. From ``/onboard`` on, about 1
Autotask call in 10 fails, evenly among the sandbox's ``FAULT_KINDS``: the thread limit (429
Itgenatr005), the hourly threshold (429), a 500 with no body, a timeout before the call lands,
and a write that lands but whose answer is lost (a bare 500 after the commit). Back-offs are
zero: the counts do not depend on how long the bot waits, only the wall time would.

It prints how many onboardings completed without the user doing anything, after one Retry, after
more; duplicate rows (records in the tenant sharing an entity and natural key, beyond what the
seed had; must be 0) and lost steps (changes a fresh plan of the stored request still finds
missing from Autotask at the end, through a fault-free connection; must be 0), with the faults
by kind and the Autotask calls against a fault-free run. Exit 1 if there is a duplicate row, a
lost step or an onboarding that never completed.

    .venv/bin/python -m bench.fault_onboarding [--onboardings 20] [--rate 0.1] [--seed 7]
        [--step-retries N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.slack_flow import fill_pages
from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES, RetryPolicy
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import (
    FAULT_KINDS,
    RandomFaults,
    SandboxTransport,
    Tenant,
    sandbox_credentials,
)
from services.onboarding.runner import Runner
from services.store.tables import Onboarding, StepRun
from tests.onboarding_support import managed_answers
from tests.slack_harness import Harness, running_bot
from tests.slack_stub import button_value, message_click

MAX_RETRIES = 5  # Retry presses before an onboarding counts as never completed

# What identifies a record the onboarding writes, among all of its entity's records.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "CompanyTeams": ("companyID", "resourceID"),
    "Contacts": ("companyID", "firstName", "lastName", "emailAddress"),
    "ClientPortalUsers": ("contactID",),
    "Contracts": ("companyID", "contractName", "contractType"),
    "ContractServices": ("contractID", "serviceID"),
    "ContractServiceUnits": ("contractServiceID", "startDate"),
    "CompanyNotes": ("companyID", "name"),
    "CompanyToDos": ("companyID", "assignedToResourceID", "activityDescription"),
}


@dataclass
class Onboarded:
    """One onboarding's end: the Retry presses it took (``completed`` False: it never did)."""

    retries: int
    completed: bool
    duplicates: int
    lost: int
    planned: int  # steps with changes in the stored plan (as last planned)
    calls: int
    injected: Counter[str] = field(default_factory=Counter)


@dataclass
class Totals:
    onboardings: list[Onboarded]

    def count(self, retries: int | None = None, *, more: bool = False) -> int:
        done = [o for o in self.onboardings if o.completed]
        if more:
            return sum(1 for o in done if o.retries > 1)
        return sum(1 for o in done if o.retries == retries)

    @property
    def never(self) -> int:
        return sum(1 for o in self.onboardings if not o.completed)

    @property
    def duplicates(self) -> int:
        return sum(o.duplicates for o in self.onboardings)

    @property
    def lost(self) -> int:
        return sum(o.lost for o in self.onboardings)

    @property
    def injected(self) -> Counter[str]:
        return sum((o.injected for o in self.onboardings), Counter())

    @property
    def healthy(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and self.never == 0


def duplicate_rows(tenant: Tenant) -> int:
    """Records beyond the first with the same entity and natural key."""
    extra = 0
    for entity, key in NATURAL_KEYS.items():
        seen = Counter(tuple(row.get(k) for k in key) for row in tenant.table(entity).values())
        extra += sum(n - 1 for n in seen.values())
    return extra


async def lost_steps(slack: Harness) -> tuple[int, int, int]:
    """(steps still to do, steps planned with changes, stored onboardings): each stored request
    planned again against the tenant as it is now, through a connection without faults."""
    async with slack.container.db.transaction() as session:
        requests = list((await session.scalars(select(Onboarding.request))).all())
        planned = len((await session.scalars(select(StepRun.id).where(StepRun.diff != []))).all())
    sandbox = SandboxTransport(slack.sandbox.tenant)
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http)
        runner = Runner(client=client, reference=ReferenceData(client), db=slack.container.db)
        missing = 0
        for request in requests:
            preview = await runner.preview(request)
            assert preview.plan is not None, preview.issues
            missing += len(preview.plan.changes)
    return missing, planned, len(requests)


RUN_TIMEOUT = 60.0  # seconds one run may take to end, Retries aside


async def _run_end(slack: Harness, seen: int) -> tuple[str, str, int]:
    """The next end of the run the progress message shows after update ``seen``:
    ("applied" | "failed", the onboarding id when failed, updates seen)."""
    while True:
        calls = await slack.stub.wait_for("chat.update", seen + 1, timeout=RUN_TIMEOUT)
        for call in calls[seen:]:
            seen += 1
            blocks = call.args.get("blocks") or []
            if "· applied" in str(blocks):
                return "applied", "", seen
            if "run_retry" in str(blocks):
                return "failed", button_value(blocks, "run_retry"), seen


async def onboard(
    folder: Path, rate: float, seed: int, step_retries: int | None = None
) -> Onboarded:
    """One onboarding by a person in Slack, from ``/onboard`` to applied (or giving up).
    ``step_retries``: ``RUN_STEP_RETRIES`` (the bot's default unless given)."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    settings: dict[str, Any] = {} if step_retries is None else {"run_step_retries": step_retries}
    async with running_bot(folder, **settings) as slack:
        slack.container.autotask.retry = NO_DELAY_RETRIES
        slack.container.runner.step_backoff = RetryPolicy(base_delay=0.0, max_delay=0.0)
        tenant = slack.sandbox.tenant
        answers = managed_answers(tenant, team=3, portal=2, devices=6)
        seeded = duplicate_rows(tenant)
        faults = RandomFaults(rate, seed) if rate else None
        slack.sandbox.random_faults = faults
        slack.sandbox.reset_log()
        review, _ = await fill_pages(slack, "Acme Dental", answers)
        seen = len(slack.stub.named("chat.update"))
        await slack.payload(slack.view_submission(review, {"values": {}}))  # Apply
        retries = 0
        end, onboarding_id, seen = await _run_end(slack, seen)
        while end == "failed" and retries < MAX_RETRIES:
            retries += 1
            await slack.payload(message_click("run_retry", onboarding_id))
            end, onboarding_id, seen = await _run_end(slack, seen)
        await slack.settle()
        calls = len(slack.sandbox.calls)
        slack.sandbox.random_faults = None
        lost, planned, stored = await lost_steps(slack)
        assert stored == 1, f"{stored} onboardings stored for one Apply"
        return Onboarded(
            retries=retries, completed=end == "applied",
            duplicates=duplicate_rows(tenant) - seeded, lost=lost,
            planned=planned, calls=calls,
            injected=Counter(faults.injected) if faults else Counter(),
        )  # fmt: skip


async def run(
    onboardings: int, rate: float, seed: int, step_retries: int | None = None
) -> tuple[Totals, Onboarded]:
    """``onboardings`` under faults, and one without faults for comparison."""
    folder = Path(tempfile.mkdtemp())
    clean = await onboard(folder / "clean", 0.0, seed)
    assert clean.completed and clean.retries == 0, clean
    results = [await onboard(folder / f"run{n}", rate, seed + n, step_retries)
               for n in range(onboardings)]  # fmt: skip
    return Totals(results), clean


def report(totals: Totals, clean: Onboarded, rate: float, seed: int) -> str:
    n = len(totals.onboardings)
    injected = totals.injected
    calls = sum(o.calls for o in totals.onboardings)
    return "\n".join([
        f"{n} full onboardings through the Slack handlers, {rate:.0%} injected faults (seed {seed})",
        f"  faults injected: {sum(injected.values())} of {calls} Autotask calls: "
        + ", ".join(f"{k} {injected[k]}" for k in FAULT_KINDS),
        f"  Autotask calls per onboarding: {calls / n:.1f} (a fault-free run: {clean.calls})",
        f"  completed without the user doing anything: {totals.count(0)}/{n}",
        f"  needed one Retry: {totals.count(1)}",
        f"  needed more Retries: {totals.count(more=True)}",
        f"  never completed ({MAX_RETRIES} Retries): {totals.never}  (must be 0)",
        f"  duplicate rows: {totals.duplicates}  (must be 0)",
        f"  lost steps: {totals.lost}  (must be 0; a fault-free run plans {clean.planned} steps "
        "with changes)",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--onboardings", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--step-retries", type=int, default=None,
                        help="RUN_STEP_RETRIES of the bot (default: its own, 3); 0 shows the "
                        "Retries people would need without them")  # fmt: skip
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the runs log every fault; the counts are the output
    try:
        totals, clean = asyncio.run(run(args.onboardings, args.rate, args.seed, args.step_retries))
    finally:
        logging.disable(logging.NOTSET)
    print(report(totals, clean, args.rate, args.seed))
    return 0 if totals.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
