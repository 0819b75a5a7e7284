"""A device follow-up wired as the process wires it: the real runner and runs over the sandbox,
the Slack device notifier over the local Web API stub, and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.devices.notifier import SlackDeviceNotifier
from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import Tenant
from services.devices.routing import DeviceRouting
from services.devices.rules import DEFAULT_RULES, ServiceRules
from services.devices.service import DeviceFollowUps
from services.onboarding.options import OptionSources
from services.onboarding.presenter import Presenters
from services.onboarding.runner import Runner
from services.onboarding.runs import Runs
from services.reminders.policy import BusinessHours
from services.store.db import Database
from tests.onboarding_support import company_id, devices_of, managed_answers, submitted
from tests.slack_harness import USERS
from tests.slack_stub import SlackStub, running_stub

ALL_DAY = BusinessHours(time(0, 0), time(23, 59), frozenset(range(7)))
MARTA = "marta.ruiz@brightline-it.example"  # U1 in the Slack stub


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    tenant: Tenant
    runner: Runner
    runs: Runs
    devices: DeviceFollowUps
    stub: SlackStub
    clock: Clock
    company: int

    def add_device(self, title: str, kind: int, **extra: Any) -> int:
        """A device the RMM integration brought in after the onboarding (as Autotask holds it)."""
        return self.tenant.create("ConfigurationItems", {
            "companyID": self.company, "productID": 100 + min(kind, 3), "isActive": True,
            "referenceTitle": title, "configurationItemType": kind, **extra,
        })  # fmt: skip

    def dms(self) -> list[dict[str, Any]]:
        """The device offers posted (chat.postMessage with blocks)."""
        return [c.args for c in self.stub.named("chat.postMessage") if c.args.get("blocks")]

    def texts(self) -> list[str]:
        return [str(c.args.get("text")) for c in self.stub.named("chat.postMessage")]


def contract_services(tenant: Tenant, company: int) -> dict[str, dict[str, Any]]:
    """The managed contract's services of the company, by service name."""
    contract = next(c for c in tenant.table("Contracts").values() if c["companyID"] == company
                    and c["contractName"] == "Acme Dental - Managed Services")  # fmt: skip
    names = {i: s["name"] for i, s in tenant.table("Services").items()}
    return {names[cs["serviceID"]]: cs for cs in tenant.table("ContractServices").values()
            if cs["contractID"] == contract["id"]}  # fmt: skip


def ci(tenant: Tenant, device: int) -> dict[str, Any]:
    return dict(tenant.get("ConfigurationItems", device) or {})


def units(tenant: Tenant, contract_service: int) -> int:
    rows = [u for u in tenant.table("ContractServiceUnits").values()
            if u["contractServiceID"] == contract_service]  # fmt: skip
    return int(rows[-1]["units"]) if rows else 0


def device_answers(tenant: Tenant, company: str = "Acme Dental") -> dict[str, Any]:
    """A managed onboarding whose two services count devices: units = devices mapped."""
    answers = managed_answers(tenant, company=company, devices=6)
    cis = devices_of(tenant, company_id(tenant, company))
    answers["devices"] = {"1": cis[3:6], "2": cis[:3]}
    answers["services"] = {"1": 3, "2": 3}
    return answers


@asynccontextmanager
async def world(
    tenant: Tenant,
    autotask: AutotaskClient,
    db: Database,
    *,
    hours: BusinessHours = ALL_DAY,
    quiet_days: int = 30,
    rules: str = DEFAULT_RULES,
    admins: tuple[str, ...] = (),
) -> AsyncIterator[World]:
    stub = SlackStub(users=dict(USERS))
    clock = Clock(datetime(2027, 2, 1, 15, 0, tzinfo=UTC))
    async with running_stub(stub):
        reference = ReferenceData(autotask)
        runner = Runner(client=autotask, reference=reference, db=db, clock=clock)
        runs = Runs(runner=runner, db=db, options=OptionSources(autotask, reference),
                    presenters=Presenters())  # fmt: skip
        slack = AsyncWebClient(token="xoxb-test-token", base_url=stub.url)
        devices = DeviceFollowUps(
            client=autotask, reference=reference, db=db, runner=runner,
            notifier=DeviceRouting({"slack": SlackDeviceNotifier(slack)}), hours=hours,
            rules=ServiceRules.parse(rules), quiet_days=quiet_days, every=timedelta(hours=1),
            onboarding_admins=admins, clock=clock,
        )  # fmt: skip
        devices.bind(runs)
        yield World(tenant, runner, runs, devices, stub, clock,
                    company_id(tenant, "Acme Dental"))  # fmt: skip


async def onboarded(w: World, answers: dict[str, Any] | None = None) -> str:
    """Apply a managed onboarding requested by U1 in Slack: its follow-up starts after the run."""
    onboarding_id, preview = await submitted(
        w.runner, answers or device_answers(w.tenant), platform="slack", requested_by="U1",
        meta={"locale": "en", "requester_email": MARTA, "origin": {}},
    )  # fmt: skip
    assert onboarding_id is not None, preview.issues
    report = await w.runs.run(onboarding_id, fresh=True)
    assert report.status == "applied", report.failed
    return onboarding_id
