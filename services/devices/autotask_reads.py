"""What the device follow-up reads from Autotask, batched so a sweep of thousands of
follow-ups costs a few calls: one query per 500 companies, contracts or services (the client
follows Autotask's pages), plus the cached reference data."""

from __future__ import annotations

import time
from collections.abc import Sequence

from services.autotask.client import AutotaskClient
from services.autotask.filters import chunked_in
from services.autotask.filters import field as f
from services.autotask.models import ConfigurationItem, Contract, ContractService
from services.autotask.reference import ReferenceData, TTLCache
from services.devices.cards import ServiceChoice


class DeviceReads:
    def __init__(self, client: AutotaskClient, reference: ReferenceData) -> None:
        self.client, self.reference = client, reference
        self._reviewed = TTLCache(60.0, time.monotonic)

    async def services_of(self, contract_id: int) -> list[ContractService]:
        """One contract's services for Review and the check of its choices: read once when Review
        opens, not again when it is submitted (a submission must be answered within Slack's 3
        seconds). The attach's plan reads Autotask afresh, so a stale list cannot attach a
        device to a service taken off the contract."""

        async def load() -> list[ContractService]:
            return (await self.services([contract_id])).get(contract_id, [])

        return await self._reviewed.get(str(contract_id), load)

    async def devices(self, companies: Sequence[int]) -> dict[int, list[ConfigurationItem]]:
        """The active configuration items on no contract of these companies: one query per 500
        companies (the client follows Autotask's pages)."""
        found: dict[int, list[ConfigurationItem]] = {}
        for condition in chunked_in("companyID", sorted(set(companies))):
            filters = [condition, f("isActive").eq(True), f("contractID").not_exists()]
            for device in await self.client.query_models(ConfigurationItem, filters):
                if device.id is not None and device.company_id is not None:
                    found.setdefault(device.company_id, []).append(device)
        return found

    async def contracts(self, ids: Sequence[int]) -> dict[int, Contract]:
        """The follow-ups' contracts as Autotask has them now (an end date moved by a renewal
        counts), one query per 500."""
        found: dict[int, Contract] = {}
        for condition in chunked_in("id", sorted(set(ids))):
            for contract in await self.client.query_models(Contract, [condition],
                                                           limit=len(condition.value)):  # fmt: skip
                if contract.id is not None:
                    found[contract.id] = contract
        return found

    async def services(self, contracts: Sequence[int]) -> dict[int, list[ContractService]]:
        """The services on these contracts (what a device may be attached to), per contract."""
        found: dict[int, list[ContractService]] = {}
        for condition in chunked_in("contractID", sorted(set(contracts))):
            for row in await self.client.query_models(ContractService, [condition]):
                found.setdefault(row.contract_id or 0, []).append(row)
        return found

    async def choices(self, services: list[ContractService]) -> list[ServiceChoice]:
        """A contract's services by name, as Review lists them and the rules match them."""
        names = {s.id: s.name for s in await self.reference.services()}
        return sorted(
            (ServiceChoice(cs.service_id, names.get(cs.service_id) or f"#{cs.service_id}")
             for cs in services if cs.service_id is not None),
            key=lambda s: s.name.casefold(),
        )  # fmt: skip

    async def recurring_contract(self, company_id: int, name: str) -> Contract | None:
        """The company's recurring service contract of that name (the one the onboarding set
        up), or None."""
        recurring = (await self.reference.picklist("contract_type")).id_for("Recurring Service")
        found = await self.client.query_models(
            Contract, [f("companyID").eq(company_id), f("contractName").eq(name)]
        )
        return next((c for c in found if c.contract_type == recurring), None)

    async def email_of(self, resource_id: int | None) -> str | None:
        """An Autotask resource's e-mail (the account manager's), from the cached resources."""
        if resource_id is None:
            return None
        people = {r.id: r.email for r in await self.reference.active_resources()}
        return people.get(resource_id)
