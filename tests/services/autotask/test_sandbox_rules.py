"""The sandbox refuses what Autotask refuses, with {"errors": [...]} bodies, through the real client."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskAPIError, BusinessRuleError
from services.autotask.filters import field
from services.autotask.models import (
    ClientPortalUser,
    Company,
    CompanyTeam,
    Contact,
    Contract,
    ContractService,
    Parent,
)
from services.autotask.sandbox import SandboxTransport, Tenant, open_tenant, sandbox_credentials
from tests.autotask_api import ConformanceRecorder


async def _company(autotask: AutotaskClient, name: str) -> Company:
    [company] = await autotask.query_models(Company, [field("companyName").eq(name)])
    return company


async def _contract(autotask: AutotaskClient, company_id: int, contract_type: int) -> int:
    return await autotask.create_model(Contract(
        company_id=company_id, contract_name=f"c{contract_type}", contract_type=contract_type, status=1,
        start_date="2027-01-01T00:00:00Z", end_date="2027-12-31T00:00:00Z",
        time_reporting_requires_start_and_stop_times=1,
    ))  # fmt: skip


async def test_required_fields(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError, match="Missing required field: phone"):
        await autotask.create(
            "Companies", {"companyName": "X", "companyType": 3, "ownerResourceID": 29682886}
        )


async def test_unknown_picklist_ids(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError, match="not a valid value for picklist field companyType"):
        await autotask.update("Companies", 1, {"companyType": 99})


async def test_reference_ids_must_exist(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError, match="TaxRegions"):
        await autotask.update("Companies", 1, {"taxRegionID": 4242})


async def test_api_only_resource_cannot_join_a_team(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError, match="API-only resource cannot be a member"):
        await autotask.create_model(CompanyTeam(company_id=1, resource_id=29682885))


async def test_portal_user_names_are_unique_and_passwords_follow_the_rules(
    autotask: AutotaskClient,
) -> None:
    acme = await _company(autotask, "Acme Dental")
    contacts = await autotask.query_models(Contact, [field("companyID").eq(acme.id)])
    base = {"security_level": 1, "date_format": 1, "number_format": 1, "time_format": 1,
            "is_client_portal_active": True}  # fmt: skip
    for bad in ["abc", "has space1", "quote'1", "x" * 51]:
        with pytest.raises(BusinessRuleError, match=r"5 to 50 printable|maximum of 50"):
            await autotask.create_model(
                ClientPortalUser(
                    contact_id=contacts[0].id, user_name="a@x.example", password=bad, **base
                )
            )
    first = await autotask.create_model(
        ClientPortalUser(
            contact_id=contacts[0].id, user_name="a@x.example", password="Str0ng!pass", **base
        )
    )
    with pytest.raises(BusinessRuleError, match="already in use"):
        await autotask.create_model(
            ClientPortalUser(
                contact_id=contacts[1].id, user_name="A@X.example", password="Str0ng!pass", **base
            )
        )
    stored = await autotask.get("ClientPortalUsers", first)
    assert stored is not None and "password" not in stored


async def test_taskfire_levels_need_taskfire_on_the_company(autotask: AutotaskClient) -> None:
    acme = await _company(autotask, "Acme Dental")
    [contact, *_] = await autotask.query_models(Contact, [field("companyID").eq(acme.id)])
    user = ClientPortalUser(contact_id=contact.id, user_name="tf@x.example", password="Str0ng!pass",
                            security_level=5, date_format=1, number_format=1, time_format=1,
                            is_client_portal_active=True)  # fmt: skip
    with pytest.raises(BusinessRuleError, match="Taskfire"):
        await autotask.create_model(user)
    await autotask.update("Companies", acme.id or 0, {"isTaskFireActive": True})
    assert await autotask.create_model(user) > 0


async def test_contract_services_only_on_recurring_service_contracts(
    autotask: AutotaskClient,
) -> None:
    acme = await _company(autotask, "Acme Dental")
    assert acme.id is not None
    time_and_materials = await _contract(autotask, acme.id, 1)
    with pytest.raises(BusinessRuleError, match="Recurring Service"):
        await autotask.create_model(
            ContractService(contract_id=time_and_materials, service_id=1, unit_price=1.0)
        )
    recurring = await _contract(autotask, acme.id, 7)
    assert (
        await autotask.create_model(
            ContractService(contract_id=recurring, service_id=1, unit_price=1.0)
        )
        > 0
    )


async def test_service_units_adjust_at_the_root_or_under_the_contract_but_are_not_read_back(
    autotask: AutotaskClient, autotask_conformance: ConformanceRecorder
) -> None:
    """ContractServiceAdjustments is create-only: POST at the root or under the contract."""
    acme = await _company(autotask, "Acme Dental")
    assert acme.id is not None
    contract = await _contract(autotask, acme.id, 7)
    adjustment = {"serviceID": 1, "effectiveDate": "2027-01-01T00:00:00Z", "unitChange": 5}
    await autotask.create(
        "ContractServiceAdjustments",
        adjustment,
        parent=Parent("Contracts", contract, "ServiceAdjustments"),
    )
    await autotask.create("ContractServiceAdjustments", {**adjustment, "contractID": contract})
    units = await autotask.query("ContractServiceUnits", [field("contractID").eq(contract)])
    assert [u["units"] for u in units] == [10]
    with pytest.raises(AutotaskAPIError) as caught:
        await autotask.get("ContractServiceAdjustments", 1)
    assert caught.value.status == 405
    assert autotask_conformance.take_problems() == [
        "GET /V1.0/ContractServiceAdjustments/1: Autotask documents no such operation"
    ]


async def test_contract_end_must_follow_start(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError, match="end date must be after"):
        await autotask.create_model(Contract(
            company_id=1, contract_name="x", contract_type=1, status=1,
            start_date="2027-02-01T00:00:00Z", end_date="2027-01-01T00:00:00Z",
            time_reporting_requires_start_and_stop_times=1,
        ))  # fmt: skip


async def test_no_company_is_its_own_parent_or_ancestor(autotask: AutotaskClient) -> None:
    harbor = await _company(autotask, "Harbor Group")
    site = await _company(autotask, "Harbor Group - Galveston")
    assert site.parent_company_id == harbor.id
    with pytest.raises(BusinessRuleError, match="own parent"):
        await autotask.update("Companies", harbor.id or 0, {"parentCompanyID": harbor.id})
    with pytest.raises(BusinessRuleError, match="own parent"):
        await autotask.update("Companies", harbor.id or 0, {"parentCompanyID": site.id})


async def test_field_lengths_and_read_only_fields(
    autotask: AutotaskClient, autotask_conformance: ConformanceRecorder
) -> None:
    with pytest.raises(BusinessRuleError, match="maximum of 50"):
        await autotask.update("Companies", 1, {"billToAttention": "x" * 51})
    with pytest.raises(BusinessRuleError, match="read-only"):
        await autotask.update(
            "Companies", 1, {"lastTrackedModifiedDateTime": "2020-01-01T00:00:00Z"}
        )
    with pytest.raises(BusinessRuleError, match="Unable to find billToAddress1"):
        await autotask.update("Companies", 1, {"billToAddress1": "the field is billingAddress1"})
    assert autotask_conformance.take_problems() == [
        "PATCH /V1.0/Companies: body key 'billToAddress1' is not a documented Companies field"
    ]


async def test_one_primary_contact_per_company(autotask: AutotaskClient) -> None:
    acme = await _company(autotask, "Acme Dental")
    contacts = await autotask.query_models(Contact, [field("companyID").eq(acme.id)])
    for contact in contacts[:2]:
        await autotask.update_model(
            Contact(id=contact.id, company_id=acme.id, primary_contact=True)
        )
    primaries = await autotask.query(
        "Contacts", [field("companyID").eq(acme.id), field("primaryContact").eq(True)]
    )
    assert [p["id"] for p in primaries] == [contacts[1].id]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("PATCH", "Companies/1", 405),  # PATCH goes to the collection URL
        ("POST", "Contacts", 404),  # children are written under their parent
        ("PATCH", "Companies/1/Teams", 405),  # team rows cannot be updated
        ("DELETE", "Companies/1", 405),  # companies cannot be deleted
        ("POST", "Resources", 405),  # resources cannot be created
    ],
)
async def test_wrong_paths_and_verbs(
    sandbox: SandboxTransport,
    autotask_conformance: ConformanceRecorder,
    method: str,
    path: str,
    status: int,
) -> None:
    """The sandbox refuses what Autotask does not offer, and the recorder agrees it is not there."""
    creds = sandbox_credentials()
    headers = {"UserName": creds.username, "Secret": creds.secret.get_secret_value(),
               "ApiIntegrationCode": creds.integration_code.get_secret_value()}  # fmt: skip
    async with httpx.AsyncClient(transport=sandbox, headers=headers) as http:
        url = "https://webservices14.autotask.net/ATServicesRest/V1.0/" + path
        response = await http.request(method, url, json={"id": 1, "firstName": "x"})
    assert response.status_code == status
    assert response.json()["errors"]
    assert autotask_conformance.take_problems() == [
        f"{method} /V1.0/{path}: Autotask documents no such operation"
    ]


async def test_missing_headers_get_401(sandbox: SandboxTransport) -> None:
    async with httpx.AsyncClient(transport=sandbox) as http:
        response = await http.get(
            "https://webservices14.autotask.net/ATServicesRest/V1.0/Companies/1"
        )
    assert response.status_code == 401


async def test_team_members_are_deleted_under_their_company(autotask: AutotaskClient) -> None:
    [team] = await autotask.query_models(CompanyTeam, limit=1)
    assert team.id and team.company_id
    with pytest.raises(AutotaskAPIError):
        await autotask.delete(
            "CompanyTeams", team.id, parent=Parent("Companies", team.company_id + 1, "Teams")
        )
    await autotask.delete(
        "CompanyTeams", team.id, parent=Parent("Companies", team.company_id, "Teams")
    )
    assert await autotask.get("CompanyTeams", team.id) is None


async def test_local_mode_state_persists_to_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    tenant = open_tenant(path)
    async with httpx.AsyncClient(transport=SandboxTransport(tenant)) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http)
        await client.update("Companies", 1, {"taxID": "99-1234567"})
    company = Tenant.load(path).get("Companies", 1)
    assert company is not None and company["taxID"] == "99-1234567"
