"""Review's choices (or the suggestions) turned into the request of a "devices" onboarding:
which device goes to which service, what Review skipped, and the target units of each service
that counts devices. Pure: the caller reads the offer's devices and the company's facts."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from services.devices.cards import ChoicesInvalidError, SkippedDevice
from services.onboarding.facts import CompanyFacts
from services.onboarding.plan_devices import (
    DevicesRequest,
    attached_to,
    counts_devices,
    skip_reason,
)
from services.store.tables import DeviceFollowUp, OfferedDevice

Choices = Mapping[int, int | None]  # device id -> service id, None: skip it this time


def mapping_of(
    offered: Sequence[OfferedDevice], choices: Choices | None, on_contract: Collection[int | None]
) -> tuple[dict[int, int], list[SkippedDevice]]:
    """Device id -> service id of the devices to attach, and those Review skipped. As suggested
    (``choices`` None) leaves out the devices with no suggestion (they stay offered); Review's
    choices must name every device still offered, each with a service on the contract or None."""
    mapping: dict[int, int] = {}
    left_out: list[SkippedDevice] = []
    issues: dict[int, str] = {}
    for device in offered:
        if choices is None:
            service = device.suggested_service_id
            if service is None:
                continue
        elif device.device_id not in choices:
            issues[device.device_id] = "devices.choose_service"
            continue
        else:
            service = choices[device.device_id]
            if service is None:
                left_out.append(SkippedDevice(device.name, "skipped"))
                continue
        if service not in on_contract:
            issues[device.device_id] = "devices.bad_service"
            continue
        mapping[device.device_id] = service
    if issues:
        raise ChoicesInvalidError(issues)
    return mapping, left_out


def devices_request(
    followup: DeviceFollowUp,
    offer_id: int,
    offered: Sequence[OfferedDevice],
    facts: CompanyFacts,
    choices: Choices | None,
) -> tuple[DevicesRequest, list[SkippedDevice]]:
    """The devices request for the offer's devices still offered: the mapping, and the target
    units of each service that counts devices (``plan_devices.counts_devices``)."""
    on_contract = {
        cs.service_id: cs for cs in facts.contract_services.get(followup.contract_id, [])
    }
    mapping, left_out = mapping_of(offered, choices, set(on_contract))
    units: dict[int, int] = {}
    for service_id, row in on_contract.items():
        if row.id is None or service_id not in mapping.values():
            continue
        current = facts.units.get(row.id, 0)
        if not counts_devices(current, attached_to(facts, row.id)):
            continue
        joining = sum(
            1
            for device_id, chosen in mapping.items()
            if chosen == service_id
            and skip_reason(facts, device_id, followup.contract_id) is None
            and facts.devices[device_id].contract_service_id != row.id
        )
        units[row.id] = current + joining
    request = DevicesRequest(
        company=followup.company_id, contract_id=followup.contract_id,
        followup_id=followup.id, offer_id=offer_id, devices=mapping, units=units,
        sla=followup.sla,
    )  # fmt: skip
    return request, left_out
