"""Each Autotask failure says whether Autotask was reached, and so what a person can do."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError, Failure, ZoneDiscoveryError, error_for_status
from services.autotask.limits import RetryPolicy
from services.autotask.sandbox import Fault, SandboxTransport, sandbox_credentials
from services.autotask.zones import Credentials
from services.i18n import catalogue


@pytest.mark.parametrize(
    ("status", "texts", "failure"),
    [
        (500, ["The logged in Resource does not have the adequate permissions"], Failure.PERMISSION),
        (403, [], Failure.PERMISSION),
        (401, [], Failure.CREDENTIALS),
        (500, ["Unable to find title in the CompanyNotes Entity."], Failure.REFUSED),
        (500, ["No matching records found. The operation could not be completed."], Failure.REFUSED),
        (500, ["An unexpected error has occurred. Error ID: 42"], Failure.REFUSED),
        (404, [], Failure.REFUSED),
        (500, ["Thread Threshold Exceeded (Itgenatr005)"], Failure.BUSY),
        (429, [], Failure.BUSY),
        (500, [], Failure.UNREACHABLE),
        (502, [], Failure.UNREACHABLE),
        (503, [], Failure.UNREACHABLE),
    ],
)  # fmt: skip
def test_what_autotask_answered_decides_the_failure(
    status: int, texts: list[str], failure: Failure
) -> None:
    error = error_for_status(status=status, entity="Companies", operation="query", errors=texts)
    assert error.failure is failure
    assert error.said == ("; ".join(texts) if texts else f"HTTP {status} with no error text")


def test_every_failure_is_worded_in_both_languages() -> None:
    for locale in ("en", "es"):
        for failure in Failure:
            assert "{error}" in catalogue(locale)[f"autotask.{failure}"], (locale, failure)


async def test_a_timeout_is_unreachable_and_a_refusal_keeps_autotasks_words(
    sandbox: SandboxTransport,
) -> None:
    async with httpx.AsyncClient(transport=sandbox) as http:
        no_retry = RetryPolicy(max_retries=0)
        client = AutotaskClient(sandbox_credentials(), http_client=http, retry=no_retry)
        sandbox.fail_next(Fault(timeout=True, method="GET"))
        with pytest.raises(AutotaskError) as timed_out:
            await client.get("Companies", 1)
        sandbox.fail_next(Fault(status=500, errors=["Nope."], method="GET"))
        with pytest.raises(AutotaskError) as refused:
            await client.get("Companies", 1)
    assert timed_out.value.failure is Failure.UNREACHABLE
    assert refused.value.failure is Failure.REFUSED and refused.value.said == "Nope."


async def test_zone_discovery_tells_an_unknown_user_from_no_answer(
    sandbox: SandboxTransport,
) -> None:
    nobody = Credentials("nobody@example.com", SecretStr("x"), SecretStr("y"))
    async with httpx.AsyncClient(transport=sandbox) as http:
        with pytest.raises(ZoneDiscoveryError) as unknown:
            await AutotaskClient(nobody, http_client=http).get("Companies", 1)
    assert unknown.value.failure is Failure.CREDENTIALS

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        with pytest.raises(ZoneDiscoveryError) as unreachable:
            await AutotaskClient(sandbox_credentials(), http_client=http).get("Companies", 1)
    assert unreachable.value.failure is Failure.UNREACHABLE
