"""What an attach did or would do, in the words of the device DM: pure functions over a run's
step rows or a plan, the JSON an offer keeps its outcome in, and the small conversions of what
Autotask returns (a device's name, a contract's end date)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.autotask.models import ConfigurationItem
from services.devices.cards import (
    AttachOutcome,
    AttachPreview,
    DeviceLine,
    SkippedDevice,
    UnitChange,
)
from services.i18n import Translator
from services.onboarding.facts import CompanyFacts
from services.onboarding.plan import Plan
from services.onboarding.plan_devices import DevicesRequest
from services.onboarding.records import RunReport

EN = Translator("en")


def outcome_of(report: RunReport) -> AttachOutcome:
    """What a devices run did, from its step rows."""
    attached: list[DeviceLine] = []
    skipped: list[SkippedDevice] = []
    units: list[UnitChange] = []
    for step in report.steps:
        device_id = int(step.key.split(":", 1)[1]) if ":" in step.key else 0
        if step.kind == "device" and step.state == "done":
            attached.append(DeviceLine(device_id, str(step.params.get("device")), None, None,
                                       str(step.params.get("service"))))  # fmt: skip
        elif step.kind == "device" and step.state == "skipped":
            skipped.append(SkippedDevice(str(step.params.get("device")), "already"))
        elif step.kind == "device_skipped":
            skipped.append(SkippedDevice(str(step.params.get("device")),
                                         str(step.params.get("reason"))))  # fmt: skip
        elif step.kind == "device_units" and step.state == "done":
            for change in step.diff:
                if change.get("field") == "units":
                    units.append(UnitChange(str(step.params.get("service")),
                                            int(change.get("before") or 0),
                                            int(change.get("after") or 0)))  # fmt: skip
    failed = report.failed
    return AttachOutcome(
        status=report.status, attached=tuple(attached), units=tuple(units),
        skipped=tuple(skipped),
        failed_step=EN(f"step.{failed.kind}", **failed.params) if failed else None,
        error=failed.error if failed else None, onboarding_id=report.onboarding_id,
    )  # fmt: skip


def preview_of(
    offer_id: int,
    plan: Plan,
    request: DevicesRequest,
    facts: CompanyFacts,
    left_out: list[SkippedDevice],
) -> AttachPreview:
    """What attaching would do, from the plan built on a fresh read: the devices that change,
    the units that move, and the services whose units stay fixed (they do not count devices)."""
    attach: list[DeviceLine] = []
    skipped = list(left_out)
    units: list[UnitChange] = []
    for step in plan.steps:
        if step.kind == "device" and step.has_changes:
            attach.append(DeviceLine(int(step.key.split(":")[1]), step.params["device"], None,
                                     None, step.params["service"]))  # fmt: skip
        elif step.kind == "device":
            skipped.append(SkippedDevice(step.params["device"], "already"))
        elif step.kind == "device_skipped":
            skipped.append(SkippedDevice(step.params["device"], step.params["reason"]))
        elif step.kind == "device_units" and step.has_changes:
            change = step.changes[0]
            units.append(UnitChange(step.params["service"], change.before, change.after))
    names = {i: s.name or f"#{i}" for i, s in facts.lookups.services.items()}
    rows = {cs.service_id: cs.id for cs in facts.contract_services.get(request.contract_id, [])}
    fixed = sorted({names.get(s, f"#{s}") for s in request.devices.values()
                    if rows.get(s) not in request.units})  # fmt: skip
    return AttachPreview(offer_id, tuple(attach), tuple(units), tuple(fixed), tuple(skipped))


def outcome_to_json(outcome: AttachOutcome) -> dict[str, Any]:
    """The outcome as the offer row keeps it, so any process can redraw the DM later."""
    return {
        "status": outcome.status,
        "attached": [[d.device_id, d.name, d.service] for d in outcome.attached],
        "units": [[u.service, u.before, u.after] for u in outcome.units],
        "skipped": [[s.name, s.reason] for s in outcome.skipped],
        "failed_step": outcome.failed_step,
        "error": outcome.error,
        "onboarding_id": outcome.onboarding_id,
    }


def outcome_from_json(data: Mapping[str, Any]) -> AttachOutcome:
    """The reverse of ``outcome_to_json``."""
    return AttachOutcome(
        status=str(data.get("status")),
        attached=tuple(DeviceLine(int(i), str(n), None, None, s) for i, n, s in data.get("attached") or []),
        units=tuple(UnitChange(str(s), int(b), int(a)) for s, b, a in data.get("units") or []),
        skipped=tuple(SkippedDevice(str(n), str(r)) for n, r in data.get("skipped") or []),
        failed_step=data.get("failed_step"), error=data.get("error"),
        onboarding_id=data.get("onboarding_id"),
    )  # fmt: skip


def device_title(device: ConfigurationItem) -> str:
    """The name a person knows the device by (its id when Autotask has no title)."""
    return device.reference_title or f"#{device.id}"


def parse_when(value: Any) -> datetime | None:
    """An Autotask date-time (ISO text, naive means UTC) as an aware datetime; None if empty."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
