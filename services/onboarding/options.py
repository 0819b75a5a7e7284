"""Option sources of the form: companies, resources, contacts, picklists, services, devices...

Tenant-wide lists come from ``ReferenceData``; per-company lists (contacts, team, devices) are
cached here for a short TTL, so a chat typeahead answers from memory after the first look.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from services.autotask.client import AutotaskClient
from services.autotask.filters import field as f
from services.autotask.models import CompanyTeam, ConfigurationItem, Contact
from services.autotask.reference import ReferenceData, TTLCache

MAX_OPTIONS = 100  # what a Slack select or a terminal list can usefully show


@dataclass(frozen=True)
class Option:
    value: int | str
    label: str
    # Labels by locale, for options that are the MSP's own words (a playbook's title in en/es);
    # tenant data has one label.
    translations: tuple[tuple[str, str], ...] = ()

    def in_locale(self, locale: str) -> Option:
        label = dict(self.translations).get(locale)
        return replace(self, label=label) if label else self


# The valid playbooks as options (``services.onboarding.playbooks.Playbooks.offered``).
PlaybookOptions = Callable[[], Awaitable[list[Option]]]


def contact_label(contact: Contact) -> str:
    name = contact.full_name
    return f"{name} <{contact.email_address}>" if contact.email_address else name


class OptionSources:
    def __init__(
        self,
        client: AutotaskClient,
        reference: ReferenceData,
        *,
        ttl: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        playbooks: PlaybookOptions | None = None,
    ) -> None:
        self.client = client
        self.reference = reference
        self._cache = TTLCache(ttl, clock)
        self.playbooks = playbooks  # bot/ wires it once the catalog exists

    async def options(
        self, source: str, answers: Mapping[str, Any], query: str = ""
    ) -> list[Option]:
        """The options of ``source``, filtered by ``query`` (case-insensitive, on the label)."""
        found = await self._load(source, answers, query)
        wanted = query.strip().casefold()
        if wanted:
            found = [o for o in found if wanted in o.label.casefold()]
        return found[:MAX_OPTIONS]

    async def every(self, source: str, answers: Mapping[str, Any]) -> list[Option]:
        """The whole list, uncapped: to label chosen values beyond the first ``MAX_OPTIONS``."""
        return await self._load(source, answers, "")

    async def _load(self, source: str, answers: Mapping[str, Any], query: str) -> list[Option]:
        ref = self.reference
        company = answers.get("company")
        if source.startswith("picklist:"):
            picklist = await ref.picklist(source.split(":", 1)[1])
            return [Option(v.id, v.label) for v in picklist.active]
        if source == "companies":
            return await self.companies()
        if source == "resources":
            return [
                Option(r.id or 0, f"{r.full_name} <{r.email}>")
                for r in await ref.active_resources()
            ]
        if source == "invoice_templates":
            return [Option(t.id or 0, t.name or "") for t in await ref.invoice_templates()]
        if source == "tax_regions":
            return [Option(t.id or 0, t.name or "") for t in await ref.tax_regions()]
        if source == "countries":
            return [Option(c.id or 0, c.name or "") for c in await ref.countries()]
        if source == "services":
            return [Option(s.id or 0, s.name or "") for s in await ref.services()]
        if source == "playbooks":
            return await self.playbooks() if self.playbooks is not None else []
        if company in (None, ""):
            return []
        cid = int(company)
        if source == "contacts":
            return await self._cache.get(f"contacts:{cid}", lambda: self._contacts(cid))
        if source == "team_members":
            return await self._cache.get(f"team:{cid}", lambda: self._team(cid))
        if source == "devices":
            return [
                Option(d.id or 0, d.reference_title or d.serial_number or f"#{d.id}")
                for d in await self.devices_of(cid)
            ]
        raise KeyError(f"unknown option source {source!r}")

    async def companies(self) -> list[Option]:
        """Active companies by name; cached, because typeahead asks on every keystroke."""

        async def load() -> list[Option]:
            rows = await self.client.query(
                "Companies", [f("isActive").eq(True)], include_fields=["companyName"]
            )
            return sorted(
                (Option(int(r["id"]), str(r["companyName"])) for r in rows), key=lambda o: o.label
            )

        return await self._cache.get("companies", load)

    async def _contacts(self, company_id: int) -> list[Option]:
        contacts = await self.client.query_models(
            Contact, [f("companyID").eq(company_id), f("isActive").eq(1)]
        )
        return sorted(
            (Option(c.id or 0, contact_label(c)) for c in contacts), key=lambda o: o.label
        )

    async def _team(self, company_id: int) -> list[Option]:
        names = {r.id: r.full_name for r in await self.reference.active_resources()}
        team = await self.client.query_models(CompanyTeam, [f("companyID").eq(company_id)])
        return [
            Option(t.resource_id or 0, names.get(t.resource_id, f"#{t.resource_id}")) for t in team
        ]

    async def devices_of(self, company_id: int) -> list[ConfigurationItem]:
        """The company's active devices (configuration items) with their type; cached like the
        device list, which is built from them."""

        async def load() -> list[ConfigurationItem]:
            return await self.client.query_models(
                ConfigurationItem, [f("companyID").eq(company_id), f("isActive").eq(True)]
            )

        return await self._cache.get(f"devices:{company_id}", load)

    def cached_company_name(self, company_id: int) -> str | None:
        """The company's name if the company list is in memory; never calls Autotask, so it is
        safe before a Slack ack or inside a database transaction."""
        entry = self._cache.entries.get("companies")
        options: list[Option] = entry.value if entry else []
        return next((o.label for o in options if o.value == company_id), None)

    def forget_company(self, company_id: int) -> None:
        """Drop per-company lists after a run changed them."""
        for key in (f"contacts:{company_id}", f"team:{company_id}", f"devices:{company_id}"):
            self._cache.entries.pop(key, None)
