"""Models speak the API's field names, and a PATCH carries only what was set."""

from __future__ import annotations

from services.autotask.models import ALL_MODELS, Company, Contact, Parent, api_alias


def test_aliases_are_the_apis_names() -> None:
    assert api_alias("owner_resource_id") == "ownerResourceID"
    assert api_alias("tax_id") == "taxID"
    assert api_alias("billing_address1") == "billingAddress1"
    assert api_alias("is_task_fire_active") == "isTaskFireActive"
    assert api_alias("id") == "id"


def test_to_api_sends_only_the_fields_that_were_set() -> None:
    company = Company(id=5, bill_to_attention="Accounts Payable", tax_region_id=3)
    assert company.to_api() == {"id": 5, "billToAttention": "Accounts Payable", "taxRegionID": 3}


def test_unknown_api_fields_survive_a_round_trip() -> None:
    company = Company.model_validate({"id": 1, "companyName": "A", "marketSegmentID": 4})
    assert company.to_api()["marketSegmentID"] == 4


def test_children_know_their_parent_path() -> None:
    assert Contact(company_id=7).parent_ref() == Parent("Companies", 7, "Contacts")
    assert Company().parent_ref() is None
    assert len(ALL_MODELS) == 17
    assert len({m.entity for m in ALL_MODELS}) == 17
