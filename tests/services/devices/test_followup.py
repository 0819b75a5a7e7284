"""Devices that arrive after a managed onboarding: found by the next sweep, offered once, attached
through the runner with units adjusted, never touching a device on another contract."""

from __future__ import annotations

from services.autotask.client import AutotaskClient
from services.autotask.sandbox import Tenant
from services.devices.cards import ATTACHED, DeviceActor
from services.store.db import Database
from tests.services.devices.support import World, ci, contract_services, onboarded, units, world

U1 = DeviceActor("U1", "marta.ruiz@brightline-it.example", "slack")


def _arrived(w: World) -> tuple[int, int, int]:
    return (w.add_device("WS-NEW-1", 1), w.add_device("SRV-NEW-1", 2),
            w.add_device("PRN-NEW-1", 4))  # fmt: skip


async def test_devices_added_after_the_apply_are_offered_once_by_the_next_sweep(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    async with world(tenant, autotask, db) as w:
        await onboarded(w)
        w.clock.advance(hours=2)
        first = await w.devices.sweep()
        assert first.offers == 0, "devices there at the apply were in the form: not offered"
        _arrived(w)
        w.clock.advance(hours=2)
        result = await w.devices.sweep()
        assert (result.offers, result.devices) == (1, 3)
        [dm] = w.dms()
        assert dm["channel"] == "DU1"  # the requester, privately
        text = str(dm["blocks"])
        assert "Suggested: Managed Workstation" in text and "WS-NEW-1" in text
        assert "Suggested: Managed Server" in text and "SRV-NEW-1" in text
        assert "No suggestion" in text and "PRN-NEW-1" in text  # no printer service on it
        w.clock.advance(hours=2)
        again = await w.devices.sweep()
        assert again.offers == 0 and len(w.dms()) == 1  # offered once


async def test_attach_as_suggested_ties_them_adjusts_units_and_a_rerun_writes_nothing(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    async with world(tenant, autotask, db) as w:
        await onboarded(w)
        services = contract_services(tenant, w.company)
        workstation, server = services["Managed Workstation"], services["Managed Server"]
        assert (units(tenant, workstation["id"]), units(tenant, server["id"])) == (3, 3)
        ws, srv, prn = _arrived(w)
        w.clock.advance(hours=2)
        await w.devices.sweep()
        offer = w.dms()[0]["blocks"][-1]["elements"][0]["value"]

        preview = await w.devices.preview(U1, int(offer))
        assert {(d.name, d.service) for d in preview.attach} == {
            ("WS-NEW-1", "Managed Workstation"),
            ("SRV-NEW-1", "Managed Server"),
        }
        assert {(u.service, u.before, u.after) for u in preview.units} == {
            ("Managed Workstation", 3, 4),
            ("Managed Server", 3, 4),
        }
        outcome = await w.devices.attach(U1, int(offer))
        assert outcome.status == "applied"
        assert ci(tenant, ws).get("contractServiceID") == workstation["id"]
        assert ci(tenant, srv).get("contractServiceID") == server["id"]
        assert ci(tenant, prn).get("contractServiceID") is None  # not chosen
        assert (units(tenant, workstation["id"]), units(tenant, server["id"])) == (4, 4)
        update = w.stub.named("chat.update")[-1].args
        assert "Units of Managed Workstation: 3 → 4" in str(update["blocks"])
        assert "PRN-NEW-1" in str(update["blocks"])  # still waiting for a choice in Review
        card = await w.devices.card(int(offer))
        assert card.state != ATTACHED or card.groups  # the printer is left to choose

        # the same devices onboarding run again (a retry, a resume): nothing written twice
        stored = await w.devices.offered(int(offer))
        assert stored is not None
        adjustments = len(tenant.table("ContractServiceAdjustments"))
        again = await w.runner.apply(stored.id)
        assert again.status == "applied"
        assert len(tenant.table("ContractServiceAdjustments")) == adjustments
        assert (units(tenant, workstation["id"]), units(tenant, server["id"])) == (4, 4)


async def test_a_device_moved_to_another_contract_by_hand_is_not_touched(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    async with world(tenant, autotask, db) as w:
        await onboarded(w)
        _, srv, _ = _arrived(w)
        w.clock.advance(hours=2)
        await w.devices.sweep()
        offer = int(w.dms()[0]["blocks"][-1]["elements"][0]["value"])
        other = tenant.create("Contracts", {
            "companyID": w.company, "contractName": "Acme Dental - Lab equipment",
            "contractType": 7, "status": 1, "startDate": "2027-01-01T00:00:00Z",
            "endDate": "2027-12-31T00:00:00Z", "timeReportingRequiresStartAndStopTimes": 1,
        })  # fmt: skip
        tenant.update("ConfigurationItems", {"id": srv, "contractID": other})
        before = dict(tenant.get("ConfigurationItems", srv) or {})
        outcome = await w.devices.attach(U1, offer)
        assert outcome.status == "applied"
        assert tenant.get("ConfigurationItems", srv) == before  # left exactly as it was
        assert ("SRV-NEW-1", "other_contract") in {(s.name, s.reason) for s in outcome.skipped}
        assert "on another contract" in str(w.stub.named("chat.update")[-1].args["blocks"])
        server = contract_services(tenant, w.company)["Managed Server"]
        assert units(tenant, server["id"]) == 3  # no unit for a device that was not attached
