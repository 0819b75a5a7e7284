"""Full onboardings under about 10 % injected Autotask faults: how many heal on their own.

Scenario: 20 full managed-services onboardings (the acme-dental answers: team, primary contact,
Client Portal users, invoice settings, a recurring contract with services and devices, the note
and the to-do), each against a fresh sandbox tenant, driven through the onboarding service
(start, review, apply) as every front-end drives it. About 1 call in 10 fails, evenly among: the
thread limit (429 Itgenatr005), the hourly threshold (429), a 500 with no body, a timeout before
the call lands, and a write that lands but whose answer is lost (a bare 500 after the commit).

It prints how many completed without the user doing anything, how many needed one Retry, how many
needed a person (more than one Retry; target 0 under transient faults), duplicate rows (must be
0) and lost steps (records an uninterrupted run has that this one lacks; must be 0), with the
faults injected by kind and the Autotask calls against a fault-free run.

The Slack path plugs in where ``_onboard`` calls the service: once the Slack handlers run on the
onboarding service, the same loop can send signed view submissions and the Apply click through
``tests/slack_harness.py`` instead, with identical counts expected.

    .venv/bin/python -m bench.fault_onboarding [--onboardings 20] [--rate 0.1] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES, RetryPolicy
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials
from services.autotask.sandbox.transport import HOURLY_LIMIT_TEXT, THREAD_LIMIT_TEXT
from services.directory import Directory
from services.onboarding.actor import Actor
from services.onboarding.options import OptionSources
from services.onboarding.outcomes import Review
from services.onboarding.presenter import Presenters
from services.onboarding.runner import Runner, RunReport
from services.onboarding.service import OnboardingService
from tests.onboarding_support import managed_answers, snapshot, sqlite_database

KINDS = ("thread_limit", "threshold", "500_no_body", "timeout", "answer_lost")


class Faults(httpx.AsyncBaseTransport):
    """About ``rate`` of the calls fail, evenly among ``KINDS`` (a lost answer needs a write;
    on a read it is a 500 with no body)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rate: float, rng: random.Random) -> None:
        self.inner, self.rate, self.rng = inner, rate, rng
        self.injected: Counter[str] = Counter()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if request.url.path.lower().endswith("zoneinformation") or self.rng.random() >= self.rate:
            return await self.inner.handle_async_request(request)
        kind = self.rng.choice(KINDS)
        writing = request.method in ("POST", "PATCH", "DELETE") and "/query" not in request.url.path
        if kind == "answer_lost" and not writing:
            kind = "500_no_body"
        self.injected[kind] += 1
        if kind == "thread_limit":
            return httpx.Response(429, json={"errors": [THREAD_LIMIT_TEXT.format(n=3)]})
        if kind == "threshold":
            return httpx.Response(429, json={"errors": [HOURLY_LIMIT_TEXT.format(n=10_000)]})
        if kind == "500_no_body":
            return httpx.Response(500)
        if kind == "timeout":
            raise httpx.ReadTimeout("injected timeout", request=request)
        await self.inner.handle_async_request(request)  # it lands...
        return httpx.Response(500)  # ...and the answer is lost


async def _onboard(
    service: OnboardingService, actor: Actor, answers: dict[str, Any]
) -> tuple[str, int]:
    """(outcome, Retries pressed): "self" (no one did anything), "retry" (one Retry), "person"."""
    draft = await service.start(actor, answers=answers)
    review = None
    for _ in range(3):  # a review that Autotask failed is submitted again by the person
        review = await service.review(actor, draft.draft_id)
        if isinstance(review, Review):
            break
    assert isinstance(review, Review), review
    report = await service.apply(actor, draft.draft_id)
    assert isinstance(report, RunReport)
    if report.status == "applied":
        return "self", 0
    retried = await service.retry(actor, report.onboarding_id)
    return ("retry", 1) if retried.status == "applied" else ("person", 1)


def _differences(
    expected: dict[str, list[dict[str, Any]]], got: dict[str, list[dict[str, Any]]]
) -> tuple[int, int]:
    """(duplicate rows, lost records) against an uninterrupted run's tenant."""
    duplicates = lost = 0
    for entity, rows in expected.items():
        have = [repr(sorted(r.items())) for r in got.get(entity, [])]
        want = [repr(sorted(r.items())) for r in rows]
        extra, missing = Counter(have) - Counter(want), Counter(want) - Counter(have)
        duplicates += sum(extra.values())
        lost += sum(missing.values())
    return duplicates, lost


async def _one(
    tenant: Tenant, transport: httpx.AsyncBaseTransport, db_path: Path
) -> tuple[str, int]:
    async with sqlite_database(db_path) as db, httpx.AsyncClient(transport=transport) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http, retry=NO_DELAY_RETRIES)
        reference = ReferenceData(client)
        runner = Runner(client=client, reference=reference, db=db,
                        step_backoff=RetryPolicy(base_delay=0.0, max_delay=0.0))  # fmt: skip
        service = OnboardingService(runner=runner, options=OptionSources(client, reference),
                                    db=db, directory=Directory(reference), presenters=Presenters())  # fmt: skip
        actor = await service.identify(platform="bench", user_id="U1", locale="en",
                                       email="marta.ruiz@brightline-it.example")  # fmt: skip
        return await _onboard(service, actor, managed_answers(tenant, team=3, portal=2, devices=6))


async def main(onboardings: int, rate: float, seed: int) -> None:
    folder = Path(tempfile.mkdtemp())
    clean_tenant = build_tenant()
    clean_calls = SandboxTransport(clean_tenant)
    assert (await _one(clean_tenant, clean_calls, folder / "clean.db"))[0] == "self"
    expected = snapshot(clean_tenant)
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    duplicates = lost = calls = 0
    for n in range(onboardings):
        tenant = build_tenant()
        faults = Faults(SandboxTransport(tenant), rate, rng)
        outcome, _ = await _one(tenant, faults, folder / f"run{n}.db")
        outcomes[outcome] += 1
        injected += faults.injected
        calls += faults.calls
        dup, gone = _differences(expected, snapshot(tenant))
        duplicates, lost = duplicates + dup, lost + gone
    print(f"{onboardings} full onboardings, {rate:.0%} injected faults (seed {seed})")
    print(f"  faults injected: {sum(injected.values())} of {calls} calls: "
          + ", ".join(f"{k} {injected[k]}" for k in KINDS))  # fmt: skip
    print(f"  Autotask calls per onboarding: {calls / onboardings:.1f} "
          f"(a fault-free run: {len(clean_calls.calls)})")  # fmt: skip
    print(f"  completed without the user doing anything: {outcomes['self']}/{onboardings}")
    print(f"  needed one Retry: {outcomes['retry']}")
    print(f"  needed a person (Retry did not finish it): {outcomes['person']}  (target 0)")
    print(f"  duplicate rows: {duplicates}  (must be 0)")
    print(f"  lost steps: {lost}  (must be 0)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onboardings", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the runs log every fault; the counts are the output
    asyncio.run(main(args.onboardings, args.rate, args.seed))
