"""The plan of a "devices" onboarding: devices that arrived after a managed onboarding was applied,
tied to its contract's services, and the units of the services that count devices.

Such an onboarding's request carries only the device mapping and the target units (computed
when the person saw the preview), so the runner re-plans it like any onboarding (a fresh read,
no step for what already holds) and a resume or retry never attaches twice or raises units
twice: the target is absolute, not "plus n". It never replays the original onboarding's answers,
which would undo what people changed in Autotask since.

A device is skipped, and the skip is a step the preview and the DM show, when Autotask now has
it on another contract (moved there by hand: it is never touched), or it is no longer an active
device of the company.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.onboarding.diff import diff
from services.onboarding.facts import CompanyFacts
from services.onboarding.plan import Plan
from services.onboarding.steps import Change, ContractServiceStep, PatchStep, Step

KIND: Literal["devices"] = "devices"


class DevicesRequest(BaseModel):
    """What a devices onboarding applies (stored as the onboarding's ``request``)."""

    kind: Literal["devices"] = KIND
    company: int
    contract_id: int
    followup_id: int
    offer_id: int
    devices: dict[int, int] = Field(default_factory=dict)  # device id -> service id
    units: dict[int, int] = Field(default_factory=dict)  # contract service id -> target units
    sla: int | None = None  # the contract's SLA, given to each device as the onboarding does


def is_devices(request: dict[str, Any]) -> bool:
    return request.get("kind") == KIND


def counts_devices(units: int, attached: int) -> bool:
    """The rule for "this contract service counts units per device": its units equal the number
    of devices already attached to it (0 and 0 included: a service put on the contract for the
    devices to come). A service whose units differ (seats, a fixed quantity) keeps its units."""
    return units == attached


def attached_to(facts: CompanyFacts, contract_service_id: int) -> int:
    return sum(1 for d in facts.devices.values() if d.contract_service_id == contract_service_id)


def skip_reason(facts: CompanyFacts, device_id: int, contract_id: int) -> str | None:
    """Why a device cannot be attached now (``None``: it can)."""
    device = facts.devices.get(device_id)
    if device is None:
        return "gone"
    if device.contract_id not in (None, contract_id):
        return "other_contract"
    return None


def build_device_plan(r: DevicesRequest, facts: CompanyFacts, *, today: date) -> Plan:
    rows = {cs.service_id: cs for cs in facts.contract_services.get(r.contract_id, [])}
    names = {i: s.name or f"#{i}" for i, s in facts.lookups.services.items()}
    steps: list[Step] = []
    for device_id, service_id in r.devices.items():
        device = facts.devices.get(device_id)
        title = (device.reference_title if device else None) or f"#{device_id}"
        service = names.get(service_id, f"#{service_id}")
        reason = skip_reason(facts, device_id, r.contract_id)
        row = rows.get(service_id)
        if reason is None and (row is None or row.id is None):
            reason = "gone"  # the service was taken off the contract since the preview
        if reason is not None or device is None or row is None or row.id is None:
            steps.append(PatchStep(f"device:{device_id}", "device_skipped",
                                   {"device": title, "reason": reason or "gone"}, [],
                                   "ConfigurationItems", device_id))  # fmt: skip
            continue
        target: dict[str, Any] = {"contractID": r.contract_id, "contractServiceID": row.id,
                                  "serviceID": service_id}  # fmt: skip
        if r.sla is not None:
            target["serviceLevelAgreementID"] = r.sla
        show = {"serviceID": lambda v: names.get(v, v)}
        changes = diff(device.model_dump(by_alias=True), target, show)
        steps.append(PatchStep(f"device:{device_id}", "device",
                               {"device": title, "service": service}, changes,
                               "ConfigurationItems", device_id,
                               {c.field: target[c.field] for c in changes}))  # fmt: skip
    by_row = {cs.id: cs for cs in rows.values() if cs.id is not None}
    for row_id, target_units in r.units.items():
        cs = by_row.get(row_id)
        if cs is None or cs.service_id is None:
            continue
        current = facts.units.get(row_id, 0)
        service = names.get(cs.service_id, f"#{cs.service_id}")
        changes = [] if current == target_units else [Change("units", current, target_units)]
        steps.append(ContractServiceStep(
            f"units:{row_id}", "device_units", {"service": service, "units": target_units},
            changes, contract_id=r.contract_id, service_id=cs.service_id, existing_id=row_id,
            current_units=current, target_units=target_units,
            effective_date=f"{today.isoformat()}T00:00:00Z",
        ))  # fmt: skip
    name = facts.company.company_name or str(r.company)
    return Plan(facts.company.id or r.company, name, f"devices-{r.offer_id}", steps, [])
