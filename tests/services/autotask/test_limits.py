"""The client stays under Autotask's thread limit and hourly budget, and recovers from rejections."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.autotask.client import AutotaskClient
from services.autotask.errors import ThreadLimitError
from services.autotask.filters import field
from services.autotask.limits import NO_DELAY_RETRIES, EntityLimiter, RetryPolicy
from services.autotask.models import Company, Parent
from services.autotask.sandbox import Fault, SandboxTransport, sandbox_credentials
from services.autotask.sandbox.transport import THREAD_LIMIT_TEXT
from tests.support import Sleeps


async def test_a_burst_of_20_parallel_calls_keeps_3_in_flight_per_entity(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    sandbox.latency = 0.02
    companies = [autotask.get("Companies", i) for i in range(1, 11)]
    contacts = [autotask.query("Contacts", [field("companyID").eq(i)]) for i in range(1, 11)]

    found, lists = await asyncio.gather(asyncio.gather(*companies), asyncio.gather(*contacts))

    assert all(r is not None for r in found)
    assert all(len(r) > 0 for r in lists)
    assert sandbox.peak_in_flight["Companies"] == 3
    assert sandbox.peak_in_flight["Contacts"] == 3
    assert sandbox.thread_limit_rejections == 0


async def test_the_limit_is_shared_by_clients_that_share_a_limiter(
    sandbox: SandboxTransport,
) -> None:
    """Two parts of the process with their own clients still count against one budget."""
    sandbox.latency = 0.02
    limiter = EntityLimiter(3)
    async with httpx.AsyncClient(transport=sandbox) as http:
        a, b = (
            AutotaskClient(
                sandbox_credentials(), http_client=http, limiter=limiter, retry=NO_DELAY_RETRIES
            )
            for _ in range(2)
        )
        await asyncio.gather(*(c.get("Companies", i) for c in (a, b) for i in range(1, 8)))
    assert sandbox.peak_in_flight["Companies"] == 3
    assert sandbox.thread_limit_rejections == 0


async def test_without_the_limiter_autotask_would_refuse_the_burst(
    sandbox: SandboxTransport,
) -> None:
    """The sandbox enforces the limit, so the test above proves something."""
    sandbox.latency = 0.02
    async with httpx.AsyncClient(transport=sandbox) as http:
        loose = AutotaskClient(
            sandbox_credentials(), http_client=http, limiter=EntityLimiter(20),
            retry=RetryPolicy(max_retries=0),
        )  # fmt: skip
        results = await asyncio.gather(
            *(loose.get("Companies", i) for i in range(1, 21)), return_exceptions=True
        )
    assert any(isinstance(r, ThreadLimitError) for r in results)
    assert sandbox.thread_limit_rejections > 0


async def test_injected_thread_limit_errors_are_retried(
    autotask: AutotaskClient, sandbox: SandboxTransport, sleeps: Sleeps
) -> None:
    sandbox.fail_next(
        Fault(status=429, errors=[THREAD_LIMIT_TEXT.format(n=3)], entity="Companies"), count=2
    )
    company = await autotask.get_model(Company, 1)
    assert company is not None
    assert [c.status for c in sandbox.calls if c.entity == "Companies"] == [429, 429, 200]
    assert len(sleeps.calls) == 2


async def test_a_create_rejected_by_the_thread_limit_is_retried_and_lands_once(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    sandbox.fail_next(Fault(status=500, errors=[THREAD_LIMIT_TEXT.format(n=3)], method="POST"))
    owner = sandbox.tenant.table("Companies")[1]["ownerResourceID"]
    new_id = await autotask.create(
        "CompanyNotes",
        {
            "name": "t",
            "note": "d",
            "actionType": 1,
            "assignedResourceID": owner,
            "startDateTime": "2027-01-01T00:00:00Z",
            "endDateTime": "2027-01-01T00:00:00Z",
        },
        parent=Parent("Companies", 1, "Notes"),
    )
    notes = await autotask.query("CompanyNotes", [field("companyID").eq(1)])
    assert [n["id"] for n in notes] == [new_id]


async def test_retry_after_is_honoured(sandbox: SandboxTransport, sleeps: Sleeps) -> None:
    sandbox.fail_next(Fault(status=429, errors=["slow down"], entity="Companies"))
    async with httpx.AsyncClient(transport=_RetryAfter(sandbox, "7")) as http:
        client = AutotaskClient(
            sandbox_credentials(), http_client=http, retry=RetryPolicy(max_retries=3), sleep=sleeps
        )
        assert await client.get("Companies", 1) is not None
    assert sleeps.calls == [7.0]


async def test_back_off_grows_and_gives_up_after_max_retries(
    sandbox: SandboxTransport, sleeps: Sleeps
) -> None:
    sandbox.fail_next(Fault(status=429, errors=[THREAD_LIMIT_TEXT.format(n=3)]), count=10)
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(
            sandbox_credentials(), http_client=http,
            retry=RetryPolicy(max_retries=4, base_delay=1.0, max_delay=5.0), sleep=sleeps,
        )  # fmt: skip
        with pytest.raises(ThreadLimitError):
            await client.get("Companies", 1)
    assert len(sleeps.calls) == 4
    ceilings = [1.0, 2.0, 4.0, 5.0]
    assert all(c / 2 <= s <= c for s, c in zip(sleeps.calls, ceilings, strict=True))


async def test_bulk_reads_slow_down_above_half_the_hourly_budget(
    autotask: AutotaskClient, sandbox: SandboxTransport, sleeps: Sleeps
) -> None:
    sandbox.use_requests(6_000)
    [metro] = await autotask.query_models(
        Company, [field("companyName").eq("Metro Health Partners")]
    )
    rows = [r async for r in autotask.iter_query("Contacts", [field("companyID").eq(metro.id)])]
    assert len(rows) == 1200
    assert autotask.threshold.slowed == 2  # pages 2 and 3
    assert autotask.threshold.paused == 0
    assert autotask.threshold.reads == 1  # one ThresholdInformation call, then the cached reading


async def test_bulk_reads_pause_above_90_percent_until_the_budget_drains(
    sandbox: SandboxTransport, sleeps: Sleeps
) -> None:
    clock = [0.0]
    sandbox._clock = lambda: clock[0]
    sandbox.use_requests(9_500)

    async def sleep_and_drain(seconds: float) -> None:
        sleeps.calls.append(seconds)
        clock[0] += 3_601  # an hour passes: the other integration's calls expire

    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http, sleep=sleep_and_drain)
        [metro] = await client.query_models(
            Company, [field("companyName").eq("Metro Health Partners")]
        )
        rows = [r async for r in client.iter_query("Contacts", [field("companyID").eq(metro.id)])]
    assert len(rows) == 1200
    assert client.threshold.paused == 1
    assert client.threshold.pause_seconds in sleeps.calls


class _RetryAfter(httpx.AsyncBaseTransport):
    """Adds a Retry-After header to 429 replies, as some Autotask zones do."""

    def __init__(self, inner: SandboxTransport, value: str) -> None:
        self.inner, self.value = inner, value

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            response.headers["Retry-After"] = self.value
        return response
