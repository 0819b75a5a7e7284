"""The sandbox's random faults and its counters, as a load test or a replica sees them over HTTP."""

from __future__ import annotations

import asyncio

import httpx

from services.autotask.sandbox import SandboxTransport, sandbox_credentials

HEADERS = {
    "UserName": sandbox_credentials().username,
    "Secret": sandbox_credentials().secret.get_secret_value(),
    "ApiIntegrationCode": sandbox_credentials().integration_code.get_secret_value(),
}


async def test_every_kind_of_fault_is_injected_and_a_lost_answer_leaves_the_record(
    served: tuple[str, SandboxTransport],
) -> None:
    base, transport = served
    transport.fault_rate = 1.0
    kinds: dict[tuple[int, str], int] = {}
    async with httpx.AsyncClient(base_url=base + "/ATServicesRest/V1.0/", headers=HEADERS) as http:
        for i in range(40):
            body = {"companyID": 1, "firstName": "Ada", "lastName": f"Fault {i}", "isActive": 1}
            response = await http.post("Companies/1/Contacts", json=body)
            kind = (response.status_code, response.text[:20])
            kinds[kind] = kinds.get(kind, 0) + 1
        stats = (await http.get(base + "/_sandbox/stats")).json()
    assert set(stats["injected"]) == {"thread_limit", "threshold", "answer_lost", "timeout"} | {
        "500_no_body"
    }
    assert sum(stats["injected"].values()) == 40
    assert (500, "") in kinds  # no body at all
    assert any(status == 504 for status, _ in kinds)  # a timeout, as a gateway answers it over HTTP
    landed = [c for c in transport.tenant.table("Contacts").values()
              if str(c.get("lastName", "")).startswith("Fault ")]  # fmt: skip
    assert len(landed) == stats["injected"]["answer_lost"]  # a lost answer's write did land


async def test_the_peak_counts_calls_the_thread_limit_turned_away(
    served: tuple[str, SandboxTransport],
) -> None:
    """Four calls at once on one entity: Autotask accepts 3, but the clients sent 4."""
    base, transport = served
    transport.latency = 0.2
    async with httpx.AsyncClient(base_url=base + "/ATServicesRest/V1.0/", headers=HEADERS) as http:
        replies = await asyncio.gather(*(http.get(f"Companies/{i}") for i in range(1, 5)))
        stats = (await http.get(base + "/_sandbox/stats")).json()
        await http.post(base + "/_sandbox/stats/reset")
        after = (await http.get(base + "/_sandbox/stats")).json()
    assert sorted(r.status_code for r in replies) == [200, 200, 200, 429]
    assert stats["peak_in_flight"] == {"Companies": 3}
    assert stats["peak_arrived"] == {"Companies": 4}
    assert stats["thread_limit_rejections"] == 1
    assert after["peak_arrived"] == {} and after["calls"] == 0
