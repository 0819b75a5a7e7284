"""When Autotask fails while a page is checked, the modal says whether Autotask was not reached,
was busy, or refused (in its own words), and what the person can do, in their language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.autotask.sandbox import Fault
from tests.onboarding_support import company_id
from tests.slack_harness import Harness, open_form, running_bot, submit
from tests.slack_stub import checkbox, radio, select, state

DENIED = "The logged in Resource does not have the adequate permissions"
NO_FIELD = "Unable to find title in the CompanyNotes Entity."


@pytest.fixture
async def no_retries(tmp_path: Path) -> AsyncIterator[Harness]:
    """AUTOTASK_MAX_RETRIES=0: one scripted fault is the whole answer to a read."""
    async with running_bot(tmp_path, autotask_max_retries=0) as harness:
        yield harness


CASES = [
    pytest.param(
        Fault(status=500, errors=[DENIED]), "U1",
        ["Autotask refused the request (Companies ", DENIED,
         "ask your Autotask administrator to check the API user's permissions"],
        id="permission-en",
    ),
    pytest.param(
        Fault(status=500, errors=[DENIED]), "U2",
        ["Autotask rechazó la solicitud (Companies ", DENIED,
         "revise los permisos del usuario de API"],
        id="permission-es",
    ),
    pytest.param(
        Fault(status=500, errors=[NO_FIELD]), "U1",
        ["Autotask refused the request (Companies ", NO_FIELD, "Try again later"],
        id="refused-en",
    ),
    pytest.param(
        Fault(status=500, errors=[NO_FIELD]), "U2",
        ["Autotask rechazó la solicitud", NO_FIELD, "Vuelva a intentarlo más tarde"],
        id="refused-es",
    ),
    pytest.param(
        Fault(status=429, errors=[]), "U1",
        ["Autotask is busy", "Try again in a few minutes"],
        id="busy-en",
    ),
    pytest.param(
        Fault(timeout=True), "U1",
        ["Autotask could not be reached", "ReadTimeout", "Try again in a moment"],
        id="timeout-en",
    ),
    pytest.param(
        Fault(status=503, errors=[]), "U2",
        ["No se pudo contactar con Autotask", "HTTP 503", "Vuelva a intentarlo en un momento"],
        id="5xx-without-text-es",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "user_id", "expected"), CASES)
async def test_a_failed_page_check_says_what_autotask_did_and_keeps_the_answers(
    no_retries: Harness, fault: Fault, user_id: str, expected: list[str]
) -> None:
    slack = no_retries
    view = await open_form(slack, user_id=user_id)
    acme = company_id(slack.sandbox.tenant, "Acme Dental")
    fault.method, fault.entity = "GET", "Companies"
    slack.sandbox.fail_next(fault)
    values = state(
        company=select(acme), client_type=radio("managed"), convert_to_customer=checkbox(True)
    )
    reply = await slack.payload(slack.view_submission(view, values, user_id=user_id))
    assert reply.body["response_action"] == "errors"
    message = reply.body["errors"]["company"]
    for part in expected:
        assert part.casefold() in message.casefold(), (part, message)
    answered = fault.status != 503 and not fault.timeout
    reached = ("could not be reached", "no se pudo contactar")
    assert answered != any(r in message.casefold() for r in reached), message
    retried = await submit(slack, view, values, user_id=user_id)  # Autotask is back: it goes on
    assert "team_add" in {b.get("block_id") for b in retried["blocks"]}
