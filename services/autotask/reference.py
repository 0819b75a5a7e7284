"""Tenant reference data: picklists, tax regions, invoice templates, countries, resources.

Picklist ids differ between tenants, so nothing here is hard-coded: labels are mapped to ids from
``entityInformation/fields``. Lists are cached with a TTL; a stale list is still served at once
while a background task refreshes it, so a Slack typeahead never waits on Autotask.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from services.autotask.client import AutotaskClient
from services.autotask.filters import field as f
from services.autotask.models import Country, InvoiceTemplate, Resource, Service, TaxRegion

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The picklists the onboarding uses: name -> (entity, field)
PICKLISTS: dict[str, tuple[str, str]] = {
    "company_type": ("Companies", "companyType"),
    "invoice_method": ("Companies", "invoiceMethod"),
    "bill_to_address": ("Companies", "billToAddressToUse"),
    "contract_type": ("Contracts", "contractType"),
    "contract_status": ("Contracts", "status"),
    "contract_period": ("Contracts", "contractPeriodType"),
    "contract_category": ("Contracts", "contractCategory"),
    "sla": ("Contracts", "serviceLevelAgreementID"),
    "portal_security_level": ("ClientPortalUsers", "securityLevel"),
    "portal_date_format": ("ClientPortalUsers", "dateFormat"),
    "portal_number_format": ("ClientPortalUsers", "numberFormat"),
    "portal_time_format": ("ClientPortalUsers", "timeFormat"),
    "note_action_type": ("CompanyNotes", "actionType"),
    "todo_action_type": ("CompanyToDos", "actionType"),
    "license_type": ("Resources", "licenseType"),
    "ci_type": ("ConfigurationItems", "configurationItemType"),  # playbooks' units per device
}


@dataclass(frozen=True)
class PicklistValue:
    id: int
    label: str
    is_active: bool = True
    is_default: bool = False


@dataclass(frozen=True)
class Picklist:
    entity: str
    field: str
    values: tuple[PicklistValue, ...]

    @property
    def active(self) -> list[PicklistValue]:
        return [v for v in self.values if v.is_active]

    def id_for(self, label: str) -> int:
        wanted = label.strip().casefold()
        for value in self.values:
            if value.label.casefold() == wanted:
                return value.id
        known = ", ".join(v.label for v in self.active)
        raise KeyError(
            f"{self.entity}.{self.field} has no value {label!r}; this tenant has: {known}"
        )

    def label_for(self, id_: int | None) -> str | None:
        return next((v.label for v in self.values if v.id == id_), None)

    def has(self, id_: int) -> bool:
        return any(v.id == id_ and v.is_active for v in self.values)

    @property
    def default(self) -> PicklistValue | None:
        return next((v for v in self.active if v.is_default), None)


@dataclass(frozen=True)
class FieldRule:
    """What ``entityInformation/fields`` says about one field: used to validate before writing."""

    name: str
    data_type: str
    length: int
    required: bool
    read_only: bool
    picklist: Picklist | None


@dataclass
class _Entry(Generic[T]):
    value: T
    loaded_at: float


@dataclass
class TTLCache:
    """Values by key with a TTL; a stale value is served while one background task reloads it."""

    ttl: float
    clock: Callable[[], float]
    entries: dict[str, _Entry[Any]] = field(default_factory=dict)
    refreshing: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    loaders: dict[str, Callable[[], Awaitable[Any]]] = field(default_factory=dict)

    async def get(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        self.loaders.setdefault(key, load)
        entry = self.entries.get(key)
        if entry is None:
            lock = self.locks.setdefault(key, asyncio.Lock())
            async with lock:  # one load per key even when many callers arrive at once
                entry = self.entries.get(key)
                if entry is None:
                    entry = _Entry(await load(), self.clock())
                    self.entries[key] = entry
        elif self.clock() - entry.loaded_at >= self.ttl and key not in self.refreshing:
            task = asyncio.create_task(self._refresh(key, load))
            self.refreshing[key] = task
        # One key always stores what its one loader returns, so the value is that loader's T.
        return cast(T, entry.value)

    async def reload_all(self) -> None:
        """Load every known list again and swap it in; readers keep the old one meanwhile."""
        for key, load in list(self.loaders.items()):
            await self._refresh(key, load)

    async def _refresh(self, key: str, load: Callable[[], Awaitable[Any]]) -> None:
        try:
            self.entries[key] = _Entry(await load(), self.clock())
        except Exception:
            # Keep serving the stale list; the next read past the TTL tries again.
            logger.exception("refreshing Autotask reference data %s failed", key)
        finally:
            self.refreshing.pop(key, None)


class ReferenceData:
    """Cached lookups for one tenant (one ``AutotaskClient``)."""

    def __init__(
        self,
        client: AutotaskClient,
        *,
        ttl: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._cache = TTLCache(ttl, clock)

    async def field_rules(self, entity: str) -> dict[str, FieldRule]:
        async def load() -> dict[str, FieldRule]:
            rules: dict[str, FieldRule] = {}
            for raw in await self.client.fields(entity):
                picklist = None
                if raw.get("isPickList"):
                    picklist = Picklist(
                        entity, str(raw["name"]), _values(raw.get("picklistValues"))
                    )
                rules[str(raw["name"]).lower()] = FieldRule(
                    name=str(raw["name"]),
                    data_type=str(raw.get("dataType", "")),
                    length=int(raw.get("length") or 0),
                    required=bool(raw.get("isRequired")),
                    read_only=bool(raw.get("isReadOnly")),
                    picklist=picklist,
                )
            return rules

        return await self._cache.get(f"fields:{entity.lower()}", load)

    async def picklist(self, name: str) -> Picklist:
        entity, field_name = PICKLISTS[name]
        rule = (await self.field_rules(entity)).get(field_name.lower())
        if rule is None or rule.picklist is None:
            raise KeyError(f"{entity}.{field_name} is not a picklist on this tenant")
        return rule.picklist

    async def tax_regions(self) -> list[TaxRegion]:
        return await self._cache.get(
            "taxregions",
            lambda: self.client.query_models(TaxRegion, [f("isActive").eq(True)]),
        )

    async def services(self) -> list[Service]:
        return await self._cache.get(
            "services", lambda: self.client.query_models(Service, [f("isActive").eq(True)])
        )

    async def invoice_templates(self) -> list[InvoiceTemplate]:
        return await self._cache.get(
            "invoicetemplates", lambda: self.client.query_models(InvoiceTemplate)
        )

    async def countries(self) -> list[Country]:
        return await self._cache.get(
            "countries", lambda: self.client.query_models(Country, [f("isActive").eq(True)])
        )

    async def active_resources(self) -> list[Resource]:
        """Active people who can be on a team or own a task: API-only users are left out."""

        async def load() -> list[Resource]:
            api_only = {
                v.id
                for v in (await self.picklist("license_type")).values
                if "api" in v.label.lower()
            }
            resources = await self.client.query_models(Resource, [f("isActive").eq(True)])
            return [r for r in resources if r.license_type not in api_only]

        return await self._cache.get("resources", load)

    async def resource_by_email(self, email: str) -> Resource | None:
        wanted = email.strip().casefold()
        for resource in await self.active_resources():
            emails = (resource.email, resource.email2, resource.email3)
            if any(e and e.casefold() == wanted for e in emails):
                return resource
        return None

    async def refresh_all(self) -> None:
        """Reload every list now; the scheduler calls this so users rarely meet a cold cache."""
        await self._cache.reload_all()
        for entity in sorted({e for e, _ in PICKLISTS.values()}):
            await self.field_rules(entity)
        await self.tax_regions()
        await self.invoice_templates()
        await self.countries()
        await self.services()
        await self.active_resources()


def _values(raw: Any) -> tuple[PicklistValue, ...]:
    values = []
    for item in raw or []:
        try:
            values.append(
                PicklistValue(
                    id=int(item["value"]),
                    label=str(item["label"]),
                    is_active=bool(item.get("isActive", True)),
                    is_default=bool(item.get("isDefaultValue", False)),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a non-numeric picklist value is not one we write
    return tuple(values)
