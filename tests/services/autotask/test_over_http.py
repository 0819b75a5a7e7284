"""The client against the sandbox served over real HTTP (``onboard-bot sandbox``)."""

from __future__ import annotations

import httpx
import pytest

from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError, BusinessRuleError
from services.autotask.filters import field
from services.autotask.limits import RetryPolicy
from services.autotask.models import Company, Contact
from services.autotask.sandbox import SandboxTransport, sandbox_credentials
from tests.autotask_api import ConformanceRecorder


async def test_paging_writes_and_errors_work_over_real_http(
    served: tuple[str, SandboxTransport], autotask_conformance: ConformanceRecorder
) -> None:
    root, transport = served
    base_url = root + "/ATServicesRest/"
    async with httpx.AsyncClient() as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http, base_url=base_url)
        [metro] = await client.query_models(
            Company, [field("companyName").eq("Metro Health Partners")]
        )
        contacts = [c async for c in client.iter_models(Contact, [field("companyID").eq(metro.id)])]
        assert len({c.id for c in contacts}) == 1200

        new_id = await client.create_model(
            Contact(company_id=metro.id, first_name="Ada", last_name="Byron", is_active=1)
        )
        fetched = await client.get_model(Contact, new_id)
        assert fetched is not None and fetched.last_name == "Byron"

        with pytest.raises(BusinessRuleError, match="Unable to find nope in the Companies Entity"):
            await client.query("Companies", [field("nope").eq(1)])
        assert autotask_conformance.take_problems() == [
            "POST /V1.0/Companies/query: filter field 'nope' is not a documented Companies field"
        ]
    assert any(c.path == "Contacts/query" for c in transport.calls)


async def test_random_faults_are_switched_on_and_off_over_http(
    served: tuple[str, SandboxTransport],
) -> None:
    root, transport = served
    base_url = root + "/ATServicesRest/"
    control = root + "/_sandbox/faults"
    async with httpx.AsyncClient() as http:
        refused = await http.post(control, json={"rate": 2})
        assert refused.status_code == 400 and transport.random_faults is None
        on = await http.post(control, json={"rate": 1, "seed": 3})
        assert on.json()["kinds"] == ["thread_limit", "threshold", "500_no_body", "timeout",
                                      "answer_lost"]  # fmt: skip
        client = AutotaskClient(sandbox_credentials(), http_client=http, base_url=base_url,
                                retry=RetryPolicy(max_retries=0))  # fmt: skip
        with pytest.raises(AutotaskError):
            await client.get("Companies", 1)
        assert transport.random_faults is not None
        assert sum(transport.random_faults.injected.values()) == 1
        await http.post(control, json={"rate": 0})
        assert transport.random_faults is None
        assert await client.get("Companies", 1) is not None
