"""The webhook watches exactly the Companies fields the readiness check reads."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from services.autotask.models import Company, api_alias
from services.autotask.reference import Picklist, PicklistValue
from services.invoice_setup import ITEMS, missing_items
from services.reminders.webhooks import WATCHED_FIELDS, watched_fields

BILL_TO = Picklist("Companies", "billToAddressToUse", (
    PicklistValue(1, "Use Company Address"), PicklistValue(2, "Use Parent Company Address"),
    PicklistValue(3, "Use Other Address"), PicklistValue(4, "Use Company Location Address"),
))  # fmt: skip
COMPLETE: dict[str, Any] = {
    "invoiceTemplateID": 2, "taxRegionID": 1, "taxID": "74-1", "isTaxExempt": False,
    "address1": "1 Main St", "city": "Austin", "parentCompanyID": 9, "billToCompanyLocationID": 4,
    "billingAddress1": "PO Box 1", "billToCity": "Austin", "billToZipCode": "78701",
    "billToAttention": "Accounts payable",
}  # fmt: skip
# every state the readiness check can be in: each bill-to kind, tax-exempt or not, each field blank
STATES = [
    {**COMPLETE, "billToAddressToUse": kind, "isTaxExempt": exempt, **blank}
    for kind, exempt in itertools.product((1, 2, 3, 4, None), (False, True))
    for blank in [{}, *({name: None} for name in COMPLETE if name != "isTaxExempt")]
]
OTHER_VALUES: dict[type, Any] = {int: 77, str: "changed", bool: True}


def _missing(fields: dict[str, Any]) -> list[str]:
    return missing_items(Company.model_validate({"id": 1, **fields}), BILL_TO, ITEMS)


def _field_names() -> list[tuple[str, type]]:
    out = []
    for name, info in Company.model_fields.items():
        annotation = info.annotation
        base = next((t for t in OTHER_VALUES if annotation in (t, t | None)), None)
        if base is not None and name != "id":
            out.append((info.alias or api_alias(name), base))
    return out


@pytest.mark.parametrize(
    ("name", "kind"), [f for f in _field_names() if f[0] not in watched_fields(ITEMS)]
)
def test_no_unwatched_field_can_complete_an_invoice_setup(name: str, kind: type) -> None:
    """If readiness starts reading a field, the webhook must watch it, or completions go unheard."""
    for fields in STATES:
        assert _missing({**fields, name: OTHER_VALUES[kind]}) == _missing(fields), fields


@pytest.mark.parametrize("name", watched_fields(ITEMS))
def test_every_watched_field_matters_to_some_item(name: str) -> None:
    kind = next(k for n, k in _field_names() if n == name)
    assert any(
        _missing({**fields, name: OTHER_VALUES[kind] if fields.get(name) is None else None})
        != _missing(fields)
        for fields in STATES
    )


def test_each_item_watches_only_fields_that_decide_it() -> None:
    for item, names in WATCHED_FIELDS.items():
        for name in names:
            changed = [
                fields for fields in STATES
                if (item in _missing(fields)) != (item in _missing({**fields, name: None}))
            ]  # fmt: skip
            assert changed, (item, name)
