"""The form flattens compound questions into fields with stable paths, and collects them back."""

from __future__ import annotations

from typing import Any

import pytest

from services.onboarding import form
from services.onboarding.collect import collect
from services.onboarding.fields import page_fields, place, source_of
from services.onboarding.form import Kind
from services.onboarding.options import Option
from services.onboarding.request import validate

SERVICES = [Option(1, "Managed Workstation"), Option(2, "Managed Server")]
MANAGED = {
    "client_type": "managed",
    "sla": 2,
    "contract_name": "Acme - Managed",
    "contract_start": "2027-01-01",
    "contract_end": "2027-12-31",
    "services": {"1": 20, "2": 3},
    "devices": {"1": [101, 102], "2": [201]},
}


def _values(fields: list[Any]) -> dict[str, Any]:
    """What a front-end sends back when the user changed nothing."""
    return {f.path: f.value for f in fields}


def test_a_managed_page_lists_one_units_and_one_devices_field_per_chosen_service() -> None:
    fields = page_fields("managed", MANAGED, {"services": SERVICES})
    by_path = {f.path: f for f in fields}
    assert [f.path for f in fields] == [
        "sla", "contract_name", "contract_start", "contract_end", "contract_period",
        "services", "services.1", "services.2", "devices.1", "devices.2",
    ]  # fmt: skip
    assert by_path["services"].kind == Kind.MULTI_SELECT and by_path["services"].dependent
    assert [o.label for o in by_path["services"].options] == [o.label for o in SERVICES]
    units = by_path["services.2"]
    assert (units.kind, units.value, units.required) == (Kind.NUMBER, 3, True)
    assert (units.label_key, units.label_params) == (
        "form.units_for",
        {"service": "Managed Server"},
    )
    devices = by_path["devices.1"]
    assert (devices.kind, devices.source, devices.searched) == (Kind.MULTI_SELECT, "devices", True)
    assert devices.value == [101, 102] and devices.label_params == {
        "service": "Managed Workstation"
    }
    assert by_path["contract_name"].max_length == 100


def test_a_break_fix_page_lists_every_slot_of_the_billing_contracts() -> None:
    answers = {"client_type": "break_fix", "billing_contracts": [{"type": 1, "name": "T&M"}]}
    fields = [f for f in page_fields("break_fix", answers) if f.group]
    assert len(fields) == 12
    assert fields[0].path == "billing_contracts.0.type" and fields[0].value == 1
    assert fields[1].path == "billing_contracts.0.name" and fields[1].value == "T&M"
    assert fields[4].path == "billing_contracts.1.type" and fields[4].value is None
    assert fields[0].label_key == "q.billing_contracts.type.label"
    assert {f.slot for f in fields} == {0, 1, 2}
    assert source_of("billing_contracts.2.type") == "picklist:contract_type"
    assert source_of("devices.7") == "devices"


@pytest.mark.parametrize("page_id", [p.id for p in form.PAGES])
def test_collecting_the_fields_unchanged_gives_back_the_same_answers(page_id: str) -> None:
    answers = {
        **form.defaults(), **MANAGED, "company": 7, "team_add": [3, 4], "portal_contacts": [9],
        "portal_security_level": 1, "bill_to": "other", "billing_address1": "1 Main St",
        "billing_country": 5, "client_type": "break_fix" if page_id == "break_fix" else "managed",
        "billing_contracts": [{"type": 1, "name": "2024", "start": "2027-01-01", "end": "2027-06-30"}],
    }  # fmt: skip
    collected = collect(page_id, _values(page_fields(page_id, answers)), answers)
    assert collected.issues == []
    assert _answered(collected.answers) == _answered(answers)


def _answered(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if v not in (None, [])}


def test_text_stays_text_even_when_it_looks_like_a_number() -> None:
    answers = {"client_type": "break_fix"}
    values = {
        "billing_contracts.0.type": "1",
        "billing_contracts.0.name": "2024",
        "billing_contracts.0.start": "2027-01-01",
        "billing_contracts.0.end": "2027-12-31",
    }
    collected = collect("break_fix", values, answers)
    assert collected.issues == []
    assert collected.answers["billing_contracts"] == [
        {"type": 1, "name": "2024", "start": "2027-01-01", "end": "2027-12-31"}
    ]
    request, issues = validate({**collected.answers, "company": 1})
    assert issues == [] and request is not None
    assert request.billing_contracts[0].name == "2024"
    named = collect("managed", {"contract_name": "①²"}, MANAGED)
    assert named.issues == [] and named.answers["contract_name"] == "①²"


@pytest.mark.parametrize("typed", ["²", "①", "9" * 5000, "-3", "1.5", "12abc", "", " "])
def test_units_that_are_not_a_whole_number_are_an_issue_on_their_field(typed: str) -> None:
    collected = collect("managed", {"services": ["1", "2"], "services.2": typed}, MANAGED)
    if typed.strip():
        [issue] = collected.issues
        assert (issue.question, issue.key) == ("services.2", "errors.whole_number")
        assert issue.params == {"min": 0, "max": 100_000}
    else:
        assert collected.issues == []
    assert collected.answers["services"] == {"1": 20, "2": 3}  # the last good value is kept


@pytest.mark.parametrize(
    ("path", "typed", "key"),
    [
        ("sla", "²", "errors.invalid_choice"),
        ("sla", "9" * 40, "errors.invalid_choice"),
        ("sla", ["2"], "errors.invalid_choice"),
        ("contract_period", "Monthly", "errors.invalid_choice"),
        ("contract_start", "2027-02-30", "errors.invalid_date"),
        ("contract_start", "20270101", "errors.invalid_date"),
        ("contract_name", "x" * 101, "errors.too_long"),
        ("contract_name", {"a": 1}, "errors.invalid"),
        ("devices.1", ["101", "①"], "errors.invalid_choice"),
    ],
)
def test_unreadable_values_are_issues_on_their_path_never_exceptions(
    path: str, typed: Any, key: str
) -> None:
    collected = collect("managed", {path: typed}, MANAGED)
    assert [(i.question, i.key) for i in collected.issues] == [(path, key)]


def test_choices_toggles_and_ids_are_read_by_kind() -> None:
    page = collect(
        "client",
        {"company": "42", "client_type": "break_fix", "convert_to_customer": []},
        form.defaults(),
    )
    assert page.issues == []
    assert page.answers | {} == {**form.defaults(), "company": 42, "client_type": "break_fix",
                                 "convert_to_customer": False}  # fmt: skip
    wrong = collect("client", {"client_type": "platinum", "convert_to_customer": "maybe"}, {})
    assert [(i.question, i.key) for i in wrong.issues] == [
        ("client_type", "errors.invalid_choice"),
        ("convert_to_customer", "errors.invalid_choice"),
    ]


def test_values_of_another_page_are_ignored() -> None:
    collected = collect("client", {"company": "3", "tax_id": "X", "sla": "1"}, {})
    assert collected.answers == {"company": 3}


def test_an_issue_on_a_moved_billing_contract_lands_on_the_slot_typed_into() -> None:
    values = {
        "billing_contracts.1.type": "1",
        "billing_contracts.1.name": "Later",
        "billing_contracts.1.start": "2027-06-01",
        "billing_contracts.1.end": "2027-01-01",
    }
    collected = collect("break_fix", values, {"client_type": "break_fix"})
    assert len(collected.answers["billing_contracts"]) == 1
    _, issues = validate({**collected.answers, "company": 1})
    [issue] = [collected.on_fields(i) for i in issues]
    assert (issue.question, issue.key) == ("billing_contracts.1.end", "errors.end_after_start")
    paths = [f.path for f in page_fields("break_fix", {"client_type": "break_fix"})]
    assert place(issue.question, paths) == "billing_contracts.1.end"
    assert place("devices", ["sla", "devices.4", "devices.5"]) == "devices.4"
    assert place("tax_id", ["sla"]) is None
