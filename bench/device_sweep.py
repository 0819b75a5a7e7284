"""One device sweep over 1,000 followed managed clients with 20 new devices each, against reading
each client's devices with a query of its own.

The sandbox holds 1,000 extra customers, each with a recurring contract carrying a workstation
service and 20 active devices on no contract (RMM arrivals); the database one due follow-up per
client. Prints the Autotask calls of one sweep by entity (the ConfigurationItems query is one per
500 companies, paged 500 records a page as Autotask pages; Contracts and ContractServices one per
500 contracts), the offers made, wall time, and the
ratio against a query per client for each of them (its devices, its contract's end date, its
contract's services), which is what a per-client follow-up costs. The chat side is a counting notifier: this measures our side.

    .venv/bin/python -m bench.device_sweep [--clients 1000] [--devices 20] [--latency 0.0]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials
from services.devices.cards import DeviceCard
from services.devices.routing import DeviceRouting
from services.devices.rules import DEFAULT_RULES, ServiceRules
from services.devices.service import DeviceFollowUps
from services.devices.sweep import SweepResult
from services.onboarding.runner import Runner
from services.reminders.notifier import ChatUser
from services.reminders.policy import BusinessHours
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from services.store.tables import DeviceFollowUp, Onboarding

ALWAYS = BusinessHours(clock_time(0, 0), clock_time(23, 59), frozenset(range(7)))


class CountingNotifier:
    def __init__(self) -> None:
        self.sent = 0

    async def find_user(self, email: str) -> ChatUser | None:
        return ChatUser("U1", "UTC", "en-US")

    async def send_devices(self, to: str, card: DeviceCard, locale: str) -> dict[str, Any]:
        self.sent += 1
        return {"channel": "D1", "ts": str(self.sent)}

    async def update_devices(self, ref: dict[str, Any], card: DeviceCard, locale: str) -> None:
        return None

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        return None


def add_clients(tenant: Tenant, clients: int, devices: int) -> list[tuple[int, int]]:
    """``clients`` customers, each with a recurring contract with a workstation service and
    ``devices`` active workstations on no contract: (company id, contract id) each."""
    companies, contracts = tenant.table("Companies"), tenant.table("Contracts")
    services, cis = tenant.table("ContractServices"), tenant.table("ConfigurationItems")
    workstation = next(i for i, s in tenant.table("Services").items()
                       if s["name"] == "Managed Workstation")  # fmt: skip
    made: list[tuple[int, int]] = []
    for n in range(clients):
        cid, kid, sid = max(companies) + 1, max(contracts) + 1, max(services) + 1
        companies[cid] = {"id": cid, "companyName": f"Client {n:04d}", "companyType": 1,
                          "ownerResourceID": 29682886, "phone": "1", "isActive": True}  # fmt: skip
        contracts[kid] = {"id": kid, "companyID": cid, "contractName": f"Client {n:04d} - Managed",
                          "contractType": 7, "status": 1, "endDate": "2099-12-31T00:00:00Z"}  # fmt: skip
        services[sid] = {"id": sid, "contractID": kid, "serviceID": workstation, "unitPrice": 45.0}
        first = max(cis) + 1
        for d in range(devices):
            cis[first + d] = {"id": first + d, "companyID": cid, "productID": 101, "isActive": True,
                              "referenceTitle": f"WS-{n:04d}-{d:02d}", "configurationItemType": 1}  # fmt: skip
        made.append((cid, kid))
    return made


async def add_followups(db: Database, clients: list[tuple[int, int]]) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with db.transaction() as session:
        for cid, kid in clients:
            onboarding = Onboarding(id=f"o{cid:08d}", company_id=cid, company_name=f"Client {cid}",
                                    platform="bench", requested_by="U1",
                                    request={"company": cid, "client_type": "managed"})  # fmt: skip
            session.add(onboarding)
            session.add(DeviceFollowUp(
                onboarding_id=onboarding.id, company_id=cid, company_name=onboarding.company_name,
                contract_id=kid, contract_name="Managed", recipient_user_id="U1",
                recipient_platform="bench", requester_id="U1", requester_platform="bench",
                locale="en", status="open", next_at=past, last_new_at=past,
            ))  # fmt: skip


@dataclass
class Measured:
    clients: int
    devices: int
    result: SweepResult
    calls: Counter[str]
    offers: int
    wall: float

    @property
    def per_client_calls(self) -> int:
        """Per client: its devices, its contract (the end date) and the contract's services."""
        return 3 * self.clients

    @property
    def sweep_calls(self) -> int:
        return sum(self.calls.values())


async def measure(clients: int, devices: int, latency: float = 0.0) -> Measured:
    tenant = build_tenant()
    made = add_clients(tenant, clients, devices)
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'devices.db'}"
    await upgrade(url)
    engine = make_engine(url)
    db = Database(engine)
    await add_followups(db, made)
    sandbox = SandboxTransport(tenant)
    try:
        async with httpx.AsyncClient(transport=sandbox) as http:
            client = AutotaskClient(sandbox_credentials(), http_client=http)
            reference = ReferenceData(client)
            await reference.picklist("ci_type")  # tenant lists are cached: not per sweep
            await reference.services()
            await client.zone()
            notifier = CountingNotifier()
            devices_service = DeviceFollowUps(
                client=client, reference=reference, db=db,
                runner=Runner(client=client, reference=reference, db=db),
                notifier=DeviceRouting({"bench": notifier}), hours=ALWAYS,
                rules=ServiceRules.parse(DEFAULT_RULES),
            )  # fmt: skip
            sandbox.reset_log()
            sandbox.latency = latency
            started = time.perf_counter()
            result = await devices_service.sweep()
            wall = time.perf_counter() - started
            calls = Counter(f"{c.method} {c.path.split('/V1.0/')[-1]}" for c in sandbox.calls)
            return Measured(clients, devices, result, calls, notifier.sent, wall)
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per Autotask call")
    args = parser.parse_args()
    m = await measure(args.clients, args.devices, args.latency)
    print(f"Device sweep: {m.clients} followed clients x {m.devices} new devices\n")
    for endpoint, n in sorted(m.calls.items()):
        print(f"  {endpoint:40} {n:>5}")
    print(f"\nAutotask calls per sweep: {m.sweep_calls} (offers {m.offers}, devices offered "
          f"{m.result.devices}, wall {m.wall:.2f} s)")  # fmt: skip
    print(
        f"one query per client (devices, contract, contract services): {m.per_client_calls} calls"
    )
    print(f"ratio per-client/sweep: {m.per_client_calls / m.sweep_calls:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
