"""The sandbox's random faults, as the fault benchmark and ``POST /_sandbox/faults`` use them: each
kind answers as Autotask (or the network) does, and only a lost answer leaves the write behind."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError, RateLimitedError, ServerError, TransportError
from services.autotask.limits import RetryPolicy
from services.autotask.models import Parent
from services.autotask.sandbox import FAULT_KINDS, RandomFaults, SandboxTransport
from services.autotask.sandbox.transport import add_observer, remove_observer
from tests.onboarding_support import company_id, technicians


async def test_every_call_failing_fails_each_kind_and_only_lost_answers_land(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    tenant = sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    notes = len(tenant.table("CompanyNotes"))
    bodies: list[tuple[int, bytes]] = []

    def seen(_request: httpx.Request, response: httpx.Response | None) -> None:
        if response is not None:
            bodies.append((response.status_code, response.content))

    autotask.retry = RetryPolicy(max_retries=0)
    sandbox.random_faults = RandomFaults(rate=1.0, seed=3)
    raised: Counter[type[AutotaskError]] = Counter()
    add_observer(seen)
    try:
        for n in range(40):
            body = {"actionType": 1, "assignedResourceID": technicians(tenant, 1)[0],
                    "name": f"Note {n}", "startDateTime": "2027-01-01T00:00:00Z",
                    "endDateTime": "2027-01-01T00:00:00Z"}  # fmt: skip
            with pytest.raises(AutotaskError) as caught:
                await autotask.create(
                    "CompanyNotes", body, parent=Parent("Companies", acme, "Notes")
                )
            raised[type(caught.value)] += 1
    finally:
        remove_observer(seen)

    injected = sandbox.random_faults.injected
    assert set(injected) == set(FAULT_KINDS) and sum(injected.values()) == 40
    assert len(tenant.table("CompanyNotes")) - notes == injected["answer_lost"]
    assert raised[TransportError] == injected["timeout"]
    assert sum(n for t, n in raised.items() if issubclass(t, RateLimitedError)) == (
        injected["thread_limit"] + injected["threshold"]
    )
    assert sum(n for t, n in raised.items() if issubclass(t, ServerError)) == (
        injected["500_no_body"] + injected["answer_lost"]
    )
    assert all(content == b"" for status, content in bodies if status == 500)  # no body at all


async def test_a_lost_answer_on_a_read_is_a_bare_500(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    autotask.retry = RetryPolicy(max_retries=0)
    sandbox.random_faults = RandomFaults(rate=1.0, seed=3)
    for _ in range(20):
        with pytest.raises(AutotaskError):
            await autotask.get("Companies", 1)
    assert "answer_lost" not in sandbox.random_faults.injected
    assert sandbox.random_faults.injected["500_no_body"] > 0
