"""Every operator and nested group, built by the typed builder and evaluated by the sandbox."""

from __future__ import annotations

import pytest

from services.autotask.client import AutotaskClient
from services.autotask.errors import BusinessRuleError
from services.autotask.filters import (
    ALL_OPERATORS,
    Filter,
    Query,
    all_of,
    any_of,
    chunked_in,
    field,
)


def test_builder_emits_autotasks_json() -> None:
    f = field("companyType").eq(1) & (
        field("companyName").contains("acme") | field("id").in_([4, 5])
    )
    assert f.to_json() == {
        "op": "and",
        "items": [
            {"op": "eq", "field": "companyType", "value": 1},
            {"op": "or", "items": [
                {"op": "contains", "field": "companyName", "value": "acme"},
                {"op": "in", "field": "id", "value": [4, 5]},
            ]},
        ],
    }  # fmt: skip
    assert field("x").exists().to_json() == {"op": "exist", "field": "x"}
    assert field("Tier", udf=True).eq("Gold").to_json()["udf"] is True
    body = Query([field("id").gt(3)], ["companyName"], 10).to_json()
    assert body == {
        "filter": [{"op": "gt", "field": "id", "value": 3}],
        "IncludeFields": ["companyName"],
        "MaxRecords": 10,
    }
    assert Query().to_json()["filter"] == [{"op": "exist", "field": "id"}]
    with pytest.raises(ValueError, match="MaxRecords"):
        Query(max_records=501).to_json()


def test_long_in_lists_are_split_at_500_or_terms() -> None:
    parts = chunked_in("id", list(range(1201)))
    assert [len(p.value) for p in parts] == [500, 500, 201]


async def _names(autotask: AutotaskClient, *filters: Filter) -> set[str]:
    rows = await autotask.query("Companies", filters)
    return {r["companyName"] for r in rows}


async def test_every_operator_against_the_sandbox(autotask: AutotaskClient) -> None:
    name = field("companyName")
    harbor = {
        "Harbor Group",
        "Harbor Group - Galveston",
        "Harbor Group - Corpus Christi",
        "Harbor Group - Port Aransas",
    }
    assert await _names(autotask, name.eq("acme dental")) == {"Acme Dental"}  # case-insensitive
    assert "Acme Dental" not in await _names(autotask, name.noteq("Acme Dental"))
    assert await _names(autotask, name.begins_with("Harbor")) == harbor
    assert await _names(autotask, name.ends_with("Galveston")) == {"Harbor Group - Galveston"}
    assert await _names(autotask, name.contains("port aransas")) == {"Harbor Group - Port Aransas"}
    assert await _names(autotask, field("id").in_([1, 2])) == {
        "Acme Dental",
        "Blue Ridge Logistics",
    }
    assert len(await _names(autotask, field("id").not_in([1, 2]))) == 29
    assert len(await _names(autotask, field("id").gt(28))) == 2
    assert len(await _names(autotask, field("id").gte(28))) == 3
    assert await _names(autotask, field("id").lt(1)) == {"Brightline IT"}
    assert len(await _names(autotask, field("id").lte(1))) == 2
    assert await _names(autotask, field("parentCompanyID").exists()) == harbor - {"Harbor Group"}
    assert len(await _names(autotask, field("parentCompanyID").not_exists())) == 28
    nested = all_of(
        field("companyType").eq(1),
        any_of(name.begins_with("Harbor"), name.eq("Keystone Credit Union")),
    )
    assert await _names(autotask, nested) == harbor | {"Keystone Credit Union"}
    assert {op for op in ALL_OPERATORS} == {
        "eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains",
        "exist", "notExist", "in", "notIn",
    }  # fmt: skip


async def test_more_than_500_or_terms_is_refused_like_autotask(autotask: AutotaskClient) -> None:
    with pytest.raises(BusinessRuleError, match="500 or fewer 'OR' conditions"):
        await autotask.query("Companies", [field("id").in_(range(501))])
