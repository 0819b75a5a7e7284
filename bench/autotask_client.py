"""Reading 5,000 contacts through the client vs a naive one-at-a-time reader.

Prints Autotask calls, wall time and peak calls in flight per entity, with 200 ms of latency
injected into every sandbox call. The naive reader (one GET per contact, one after another) would
take about 17 minutes at that latency, so it is measured on a sample and extrapolated linearly;
its call count is exact either way (one call per contact).

    .venv/bin/python bench/autotask_client.py [--latency 0.2] [--contacts 5000] [--sample 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

import httpx

from services.autotask.client import AutotaskClient
from services.autotask.filters import field
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials


@dataclass
class Figures:
    name: str
    rows: int
    calls: int
    seconds: float
    peak: int
    note: str = ""


def tenant_with_contacts(total: int) -> tuple[Tenant, int]:
    tenant = build_tenant()
    company_id = 1
    contacts = tenant.table("Contacts")
    have = sum(1 for c in contacts.values() if c["companyID"] == company_id)
    next_id = max(contacts) + 1
    for i in range(total - have):
        contacts[next_id + i] = {
            "id": next_id + i, "companyID": company_id, "firstName": "Bench",
            "lastName": f"Contact{i:05d}", "isActive": 1, "primaryContact": False,
        }  # fmt: skip
    return tenant, company_id


async def id_walk(tenant: Tenant, company_id: int, latency: float) -> Figures:
    sandbox = SandboxTransport(tenant, latency=latency)
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http)
        await client.zone()
        started = time.perf_counter()
        rows = [r async for r in client.iter_query("Contacts", [field("companyID").eq(company_id)])]
        seconds = time.perf_counter() - started
    calls = sum(1 for c in sandbox.calls if c.entity == "Contacts")
    extra = len(sandbox.calls) - calls
    return Figures("client (id-walk, 500/page)", len(rows), calls + extra, seconds,
                   sandbox.peak_in_flight["Contacts"], f"{extra} ThresholdInformation read(s)")  # fmt: skip


async def naive(
    tenant: Tenant, company_id: int, latency: float, sample: int, total: int
) -> Figures:
    ids = sorted(i for i, c in tenant.table("Contacts").items() if c["companyID"] == company_id)
    sandbox = SandboxTransport(tenant, latency=latency)
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http)
        await client.zone()
        started = time.perf_counter()
        for contact_id in ids[:sample]:
            await client.get("Contacts", contact_id)
        seconds = (time.perf_counter() - started) * total / sample
    return Figures("naive (GET each, one at a time)", total, total, seconds,
                   sandbox.peak_in_flight["Contacts"], f"time extrapolated from {sample} GETs")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--sample", type=int, default=50)
    args = parser.parse_args()

    tenant, company_id = tenant_with_contacts(args.contacts)
    smart = await id_walk(tenant, company_id, args.latency)
    slow = await naive(tenant, company_id, args.latency, args.sample, args.contacts)
    print(
        f"Reading {args.contacts} contacts, {args.latency * 1000:.0f} ms injected latency per call\n"
    )
    print(f"{'reader':34} {'rows':>6} {'calls':>6} {'wall s':>9} {'peak in flight':>15}  note")
    for f in (smart, slow):
        print(f"{f.name:34} {f.rows:>6} {f.calls:>6} {f.seconds:>9.2f} {f.peak:>15}  {f.note}")
    print(
        f"\nratio naive/client: calls {slow.calls / smart.calls:.0f}x, wall time {slow.seconds / smart.seconds:.0f}x"
    )
    assert smart.rows == args.contacts, "the client must return every row"
    assert smart.peak <= 3, "never more than 3 calls in flight per entity"


if __name__ == "__main__":
    asyncio.run(main())
