"""The device sweep benchmark, small enough for CI: one ConfigurationItems query per 500 followed
companies (however many there are), and every client's new devices offered in one DM."""

from __future__ import annotations

from bench.device_sweep import measure


async def test_one_configuration_items_query_per_500_followed_companies() -> None:
    m = await measure(clients=501, devices=0)
    assert m.result.claimed == 501
    # 500 + 1 companies, and their contracts' end dates: nothing new, so no services read
    assert m.calls == {"POST ConfigurationItems/query": 2, "POST Contracts/query": 2}
    assert m.offers == 0


async def test_each_client_s_new_devices_are_offered_once_with_few_calls() -> None:
    m = await measure(clients=40, devices=20)
    assert m.offers == 40 and m.result.devices == 800
    # 800 devices: 2 pages of 500 (Autotask's page size), and the contracts' services at once
    assert m.calls["POST ConfigurationItems/query"] <= 3
    assert m.calls["POST ContractServices/query"] == 1
    assert m.per_client_calls / m.sweep_calls >= 20
