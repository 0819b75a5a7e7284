"""Failures carry Autotask's own text, the entity and the operation, and map to the right class."""

from __future__ import annotations

import pytest

from services.autotask.client import AutotaskClient
from services.autotask.errors import (
    BusinessRuleError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    ThreadLimitError,
    ThresholdExceededError,
    TransportError,
    error_for_status,
)
from services.autotask.filters import field
from services.autotask.models import Company, CompanyTeam, Contact
from services.autotask.sandbox import Fault, SandboxTransport
from tests.autotask_api import ConformanceRecorder


async def test_a_query_with_a_bad_field_surfaces_autotasks_text(
    autotask: AutotaskClient, autotask_conformance: ConformanceRecorder
) -> None:
    with pytest.raises(BusinessRuleError) as caught:
        await autotask.query("Contacts", [field("companyName").eq("Acme")])
    assert autotask_conformance.take_problems() == [
        "POST /V1.0/Contacts/query: filter field 'companyName' is not a documented Contacts field"
    ]
    assert caught.value.errors == ["Unable to find companyName in the Contacts Entity."]
    assert caught.value.entity == "Contacts"
    assert caught.value.operation == "query"
    assert "Unable to find companyName" in str(caught.value)


async def test_missing_records_are_none_whether_autotask_says_404_or_item_null(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    assert await autotask.get("Companies", 999_999) is None  # {"item": null}
    sandbox.fail_next(Fault(status=404, errors=["Not found"], method="GET"))
    assert await autotask.get("Companies", 1) is None


async def test_a_business_rule_refusal_keeps_every_text(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError) as caught:
        await autotask.create(
            "Contacts", {"isActive": 1}, parent=Contact(company_id=1).parent_ref()
        )
    assert caught.value.status == 500
    assert caught.value.errors == [
        "Missing required field: firstName.",
        "Missing required field: lastName.",
    ]


async def test_a_duplicate_team_member_is_refused_with_autotasks_text(
    autotask: AutotaskClient,
) -> None:
    [team] = await autotask.query_models(CompanyTeam, limit=1)
    with pytest.raises(BusinessRuleError, match="already a member"):
        await autotask.create_model(
            CompanyTeam(company_id=team.company_id, resource_id=team.resource_id)
        )


async def test_a_create_that_fails_with_a_5xx_is_not_retried(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    """The write landed but the reply was lost: a blind retry would create a duplicate."""
    sandbox.fail_next(Fault(status=500, method="POST", entity="Contacts", after_write=True))
    with pytest.raises(ServerError):
        await autotask.create_model(
            Contact(company_id=1, first_name="Lost", last_name="Reply", is_active=1)
        )
    creates = [c for c in sandbox.calls if c.method == "POST" and c.path == "Companies/1/Contacts"]
    assert len(creates) == 1
    found = await autotask.query("Contacts", [field("lastName").eq("Reply")])
    assert len(found) == 1  # it exists once: the caller must look it up, not create again


async def test_a_create_that_times_out_is_not_retried(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    sandbox.fail_next(Fault(timeout=True, method="POST", entity="Contacts"))
    with pytest.raises(TransportError):
        await autotask.create_model(
            Contact(company_id=1, first_name="T", last_name="O", is_active=1)
        )
    assert await autotask.query("Contacts", [field("lastName").eq("O")]) == []


async def test_reads_are_retried_after_timeouts_and_opaque_500s(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    sandbox.fail_next(Fault(timeout=True, method="GET"))
    sandbox.fail_next(Fault(status=500, method="GET"))
    company = await autotask.get_model(Company, 1)
    assert company is not None and company.company_name == "Acme Dental"


@pytest.mark.parametrize(
    ("status", "texts", "expected"),
    [
        (500, ["Thread Threshold Exceeded — ... (Itgenatr005)"], ThreadLimitError),
        (429, ["Thread Threshold Exceeded"], ThreadLimitError),
        (429, [], ThresholdExceededError),
        (
            500,
            ["The logged in Resource does not have the adequate permissions"],
            PermissionDeniedError,
        ),
        (500, ["No matching records found. The operation could not be completed."], NotFoundError),
        (500, ["An unexpected error has occurred. Error ID: 42"], ServerError),
        (500, [], ServerError),
        (500, ["Missing required field: phone."], BusinessRuleError),
    ],
)
def test_status_and_text_map_to_the_specific_error(
    status: int, texts: list[str], expected: type[Exception]
) -> None:
    error = error_for_status(status=status, entity="Companies", operation="create", errors=texts)
    assert type(error) is expected
    for text in texts:
        assert text in str(error)


async def test_the_api_only_user_cannot_own_a_company(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError, match="API-only resource cannot be the owner"):
        await autotask.update("Companies", 1, {"ownerResourceID": 29682885})
