"""How a device follow-up ends by itself (quiet period, contract end, rollout complete), and an
attach that stops at a step or with its process: retried or resumed without a duplicate."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from services.autotask.client import AutotaskClient
from services.autotask.sandbox import Fault, SandboxTransport, Tenant
from services.autotask.sandbox.tenant import Change
from services.devices.cards import ATTACHED, ENDED, FAILED, DeviceActor, NotYourDevicesError
from services.reminders.policy import BusinessHours
from services.store.db import Database
from services.store.tables import DeviceFollowUp
from tests.services.devices.support import World, contract_services, onboarded, units, world

U1 = DeviceActor("U1", "marta.ruiz@brightline-it.example", "slack")


def _offer(w: World, n: int = 0) -> int:
    return int(w.dms()[n]["blocks"][-1]["elements"][0]["value"])


async def _status(db: Database) -> tuple[str, str | None]:
    async with db.transaction() as session:
        row = (await session.execute(DeviceFollowUp.__table__.select())).one()
        return row.status, row.end_reason


async def test_the_follow_up_ends_after_the_quiet_period_counted_from_the_last_new_device(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    async with world(tenant, autotask, db, quiet_days=30) as w:
        await onboarded(w)
        w.clock.advance(days=20)
        w.add_device("WS-LATE-1", 1)
        assert (await w.devices.sweep()).offers == 1
        w.clock.advance(days=20)  # 40 days after the apply, 20 after the last new device
        await w.devices.sweep()
        assert await _status(db) == ("open", None)
        w.clock.advance(days=11)
        result = await w.devices.sweep()
        assert result.ended == 1 and await _status(db) == ("ended", "quiet")
        told = [t for t in w.texts() if "has ended" in t]
        assert told == ["The device follow-up of Acme Dental has ended: no new devices for the "
                        "quiet period."]  # fmt: skip
        assert "has ended" in str(w.stub.named("chat.update")[-1].args["blocks"])  # the offer too
        w.add_device("WS-AFTER-1", 1)
        w.clock.advance(days=1)
        assert (await w.devices.sweep()).claimed == 0  # nothing more is looked at
        assert len(w.dms()) == 1


async def test_the_follow_up_ends_when_the_contract_has_ended(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    async with world(tenant, autotask, db, quiet_days=1000) as w:
        await onboarded(w)  # the contract ends 2027-12-31
        contract = next(c for c in tenant.table("Contracts").values()
                        if c["contractName"] == "Acme Dental - Managed Services")  # fmt: skip
        tenant.update("Contracts", {"id": contract["id"], "endDate": "2028-01-31T00:00:00Z"})
        w.clock.advance(days=340)  # 2028-01-06: past the first end date, not the renewed one
        await w.devices.sweep()
        assert await _status(db) == ("open", None)
        w.clock.advance(days=30)
        w.add_device("WS-2028-1", 1)
        await w.devices.sweep()
        assert await _status(db) == ("ended", "contract_ended")
        assert w.dms() == []  # no offer for a contract that is over
        assert any("the contract Acme Dental - Managed Services has ended" in t for t in w.texts())


async def test_the_follow_up_ends_when_its_contract_is_gone_from_autotask(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    async with world(tenant, autotask, db) as w:
        await onboarded(w)
        contract = next(i for i, c in tenant.table("Contracts").items()
                        if c["contractName"] == "Acme Dental - Managed Services")  # fmt: skip
        del tenant.table("Contracts")[contract]  # removed in Autotask's web UI
        w.add_device("WS-NEW-1", 1)
        w.clock.advance(hours=2)
        await w.devices.sweep()
        assert await _status(db) == ("ended", "gone") and w.dms() == []


async def test_rollout_complete_ends_it_and_only_the_people_concerned_may_press_it(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    async with world(tenant, autotask, db) as w:
        await onboarded(w)
        w.add_device("WS-NEW-1", 1)
        w.clock.advance(hours=2)
        await w.devices.sweep()
        stranger = DeviceActor("U3", "visitor@elsewhere.example", "slack")
        try:
            await w.devices.complete(stranger, _offer(w))
            raise AssertionError("a stranger ended the follow-up")
        except NotYourDevicesError:
            pass
        admin = DeviceActor("U9", "Ops.Lead@brightline-it.example", "slack")
        async with world(tenant, autotask, db, admins=("ops.lead@brightline-it.example",)) as w2:
            assert await w2.devices.complete(admin, _offer(w))
        assert await _status(db) == ("ended", "complete")
        card = await w.devices.card(_offer(w))
        assert card.state == ENDED and card.ended == "complete"


async def test_an_attach_stopped_at_a_step_says_which_and_pressing_attach_again_finishes_it(
    tenant: Tenant, autotask: AutotaskClient, db: Database, sandbox: SandboxTransport
) -> None:
    async with world(tenant, autotask, db) as w:
        await onboarded(w)
        ws, srv = w.add_device("WS-NEW-1", 1), w.add_device("SRV-NEW-1", 2)
        w.clock.advance(hours=2)
        await w.devices.sweep()
        sandbox.fail_next(Fault(status=400, errors=["Device locked by an RMM sync"],
                                entity="ConfigurationItems", method="PATCH"))  # fmt: skip
        outcome = await w.devices.attach(U1, _offer(w))
        assert outcome.status == "failed" and outcome.error and "locked" in outcome.error
        assert outcome.failed_step and outcome.failed_step.startswith("Attach ")
        shown = str(w.stub.named("chat.update")[-1].args["blocks"])
        assert "Device locked by an RMM sync" in shown and "to retry" in shown
        assert (await w.devices.card(_offer(w))).state == FAILED
        services = contract_services(tenant, w.company)
        rows = [services["Managed Workstation"]["id"], services["Managed Server"]["id"]]
        assert [units(tenant, r) for r in rows] == [3, 3]  # stopped before the units

        again = await w.devices.attach(U1, _offer(w))
        assert again.status == "applied"
        assert all((tenant.get("ConfigurationItems", d) or {}).get("contractServiceID")
                   for d in (ws, srv))  # fmt: skip
        assert [units(tenant, r) for r in rows] == [4, 4]  # raised once each
        assert (await w.devices.card(_offer(w))).state == ATTACHED


async def test_an_attach_whose_process_died_mid_run_is_resumed_and_finished_once(
    tenant: Tenant, autotask: AutotaskClient, db: Database, sandbox: SandboxTransport
) -> None:
    async with world(tenant, autotask, db) as w:
        await onboarded(w)
        devices = [w.add_device(f"WS-NEW-{i}", 1) for i in range(4)]
        w.clock.advance(hours=2)
        await w.devices.sweep()
        sandbox.latency = 0.05
        first_write = asyncio.Event()

        def written(change: Change) -> None:
            if change.entity == "ConfigurationItems" and change.action == "Update":
                first_write.set()

        tenant.listeners.append(written)
        attach = asyncio.ensure_future(w.devices.attach(U1, _offer(w)))
        await asyncio.wait_for(first_write.wait(), 10)
        attach.cancel()  # the process is killed between two device writes
        await asyncio.gather(attach, return_exceptions=True)
        sandbox.latency = 0.0
        w.clock.advance(minutes=3)  # its lease ran out
        taken = await w.runs.resume_orphans()
        assert len(taken) == 1
        await w.runs.settle()
        assert all((tenant.get("ConfigurationItems", d) or {}).get("contractServiceID")
                   for d in devices)  # fmt: skip
        card = await w.devices.card(_offer(w))
        assert card.state == ATTACHED and card.outcome is not None
        assert [(u.before, u.after) for u in card.outcome.units] == [(3, 7)]
        workstation = contract_services(tenant, w.company)["Managed Workstation"]["id"]
        assert units(tenant, workstation) == 7  # 3 + the 4 devices, once
        assert "Attached" in str(w.stub.named("chat.update")[-1].args["blocks"])
        assert timedelta(0) < w.runner.lease


async def test_offers_wait_for_business_hours_and_a_snooze(
    tenant: Tenant, autotask: AutotaskClient, db: Database
) -> None:
    office = BusinessHours(time(9, 0), time(17, 0), frozenset(range(5)))  # Mon-Fri, their tz
    async with world(tenant, autotask, db, hours=office) as w:
        await onboarded(w)  # Monday 2027-02-01 15:00 UTC: 09:00 in Chicago (U1's time zone)
        w.clock.now = datetime(2027, 2, 6, 15, 0, tzinfo=UTC)  # Saturday
        w.add_device("WS-SAT-1", 1)
        result = await w.devices.sweep()
        assert (result.offers, result.deferred) == (0, 1)
        w.clock.now = datetime(2027, 2, 8, 14, 59, tzinfo=UTC)  # Monday 08:59 in Chicago
        assert (await w.devices.sweep()).offers == 0  # not due before the slot it was given
        w.clock.now = datetime(2027, 2, 8, 15, 0, tzinfo=UTC)
        assert (await w.devices.sweep()).offers == 1
        until = await w.devices.snooze(U1, _offer(w), 1)
        assert until == datetime(2027, 2, 9, 15, 0, tzinfo=UTC)  # Tuesday 09:00 Chicago
        assert "Snoozed until" in str(w.stub.named("chat.update")[-1].args["blocks"])
        w.add_device("WS-MON-2", 1)
        w.clock.now = datetime(2027, 2, 8, 20, 0, tzinfo=UTC)
        assert (await w.devices.sweep()).offers == 0  # snoozed
        w.clock.now = datetime(2027, 2, 9, 15, 1, tzinfo=UTC)
        assert (await w.devices.sweep()).offers == 1
        assert "WS-MON-2" in str(w.dms()[-1]["blocks"])
