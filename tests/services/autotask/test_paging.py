"""Reads return every matching row exactly once, however many pages it takes."""

from __future__ import annotations

import httpx

from services.autotask.client import AutotaskClient
from services.autotask.filters import field
from services.autotask.models import Company, Contact
from services.autotask.sandbox import SandboxTransport, sandbox_credentials
from tests.autotask_api import ConformanceRecorder


async def _metro(autotask: AutotaskClient) -> Company:
    [metro] = await autotask.query_models(
        Company, [field("companyName").eq("Metro Health Partners")]
    )
    return metro


async def test_paging_over_1000_rows_returns_every_row_once(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    metro = await _metro(autotask)
    expected = await autotask.count("Contacts", [field("companyID").eq(metro.id)])
    assert expected == 1200

    ids = [
        c.id or 0 async for c in autotask.iter_models(Contact, [field("companyID").eq(metro.id)])
    ]

    assert len(ids) == expected
    assert len(set(ids)) == expected
    assert ids == sorted(ids)
    # 1,200 rows are three 500-row pages; every page is a POST query, never a nextPageUrl GET.
    reads = [
        c for c in sandbox.calls if c.entity == "Contacts" and c.path != "Contacts/query/count"
    ]
    assert [(c.method, c.path) for c in reads] == [("POST", "Contacts/query")] * 3


async def test_an_exact_multiple_of_the_page_size_ends_cleanly(
    autotask: AutotaskClient, sandbox: SandboxTransport
) -> None:
    metro = await _metro(autotask)
    ids = [
        c.id
        async for c in autotask.iter_models(Contact, [field("companyID").eq(metro.id)], limit=1000)
    ]
    assert len(ids) == 1000 and len(set(ids)) == 1000


async def test_include_fields_adds_id_so_the_walk_can_continue(autotask: AutotaskClient) -> None:
    metro = await _metro(autotask)
    rows = [
        r
        async for r in autotask.iter_query(
            "Contacts", [field("companyID").eq(metro.id)], include_fields=["lastName"]
        )
    ]
    assert len(rows) == 1200
    assert set(rows[0]) == {"id", "lastName"}


async def test_following_next_page_url_with_get_is_refused_by_the_sandbox(
    sandbox: SandboxTransport, autotask: AutotaskClient, autotask_conformance: ConformanceRecorder
) -> None:
    """Why the client id-walks: Autotask's nextPageUrl must be re-POSTed, a GET fails."""
    metro = await _metro(autotask)
    zone = await autotask.zone()
    creds = sandbox_credentials()
    headers = {
        "UserName": creds.username,
        "Secret": creds.secret.get_secret_value(),
        "ApiIntegrationCode": creds.integration_code.get_secret_value(),
    }
    async with httpx.AsyncClient(transport=sandbox, headers=headers) as http:
        body = {"filter": [{"op": "eq", "field": "companyID", "value": metro.id}]}
        first = (await http.post(zone.api_base + "Contacts/query", json=body)).json()
        next_url = first["pageDetails"]["nextPageUrl"]
        assert len(first["items"]) == 500 and next_url
        assert (await http.get(next_url)).status_code == 405
        assert autotask_conformance.take_problems() == [
            "GET /V1.0/Contacts/query/next: Autotask documents no such operation"
        ]
        second = (await http.post(next_url, json=body)).json()
        assert len(second["items"]) == 500
        assert {i["id"] for i in second["items"]}.isdisjoint({i["id"] for i in first["items"]})
