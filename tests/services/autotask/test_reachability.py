"""The client's own calls tell readiness whether Autotask can be reached (no probe calls)."""

from __future__ import annotations

import pytest

from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError
from services.autotask.limits import RetryPolicy
from services.autotask.sandbox import Fault, SandboxTransport


async def test_three_timeouts_in_a_row_make_autotask_unreachable_and_one_answer_undoes_it(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    autotask.retry = RetryPolicy(max_retries=0)
    sandbox.fail_next(Fault(timeout=True), count=3)
    for _ in range(2):
        with pytest.raises(AutotaskError):
            await autotask.get("Companies", 1)
    assert autotask.reachability.verdict().reachable  # two blips do not take a replica out
    with pytest.raises(AutotaskError):
        await autotask.get("Companies", 1)
    verdict = autotask.reachability.verdict()
    assert not verdict.reachable and "TransportError" in verdict.detail

    assert await autotask.get("Companies", 1) is not None
    assert autotask.reachability.verdict().reachable


async def test_a_refusal_is_an_answer_not_an_outage(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    autotask.retry = RetryPolicy(max_retries=0)
    sandbox.fail_next(Fault(timeout=True), count=2)
    sandbox.fail_next(Fault(status=500, errors=["Value does not exist for the picklist."]))
    sandbox.fail_next(Fault(timeout=True), count=2)
    for _ in range(5):
        with pytest.raises(AutotaskError):
            await autotask.get("Companies", 1)
    assert autotask.reachability.verdict().reachable  # the business rule broke the streak
