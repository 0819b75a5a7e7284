"""Devices that arrive later: follow a managed client until every device its RMM brings in is on
the contract.

A follow-up starts when a managed onboarding is applied (``after_run``, wired into the runs as
``services.onboarding.runs.DeviceFollowUpHook``). The devices then off the contract were in the
form, so they are remembered and never offered. A sweep claims due follow-ups like the reminders
(``FOR UPDATE SKIP LOCKED``, a lease in ``next_at`` and a claim token, so two schedulers never
offer the same batch) and reads the active configuration items with no contract of up to 500
companies in one query (paged as Autotask pages). The new ones are recorded (once per follow-up:
a unique index, written only under the claim) and DM'd, grouped by suggested service, inside the
recipient's business hours.

Attaching is a "devices" onboarding (``services/onboarding/plan_devices.py``) run by the same
runner as every onboarding (lease, step rows, audit, resume, retry); its outcome comes back
through ``after_run`` whichever process ran it, and updates the DM in place.

A follow-up ends when someone says the rollout is complete, after ``quiet_days`` with no new
device, or when the contract's end date has passed; the requester is told.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError
from services.autotask.filters import chunked_in
from services.autotask.filters import field as f
from services.autotask.models import Company, ConfigurationItem, Contract, ContractService
from services.autotask.reference import ReferenceData
from services.autotask.zones import company_url
from services.devices.cards import (
    ATTACHED,
    ATTACHING,
    DISMISSED,
    ENDED,
    FAILED,
    OFFERED,
    SNOOZED,
    AttachBusyError,
    AttachOutcome,
    AttachPreview,
    ChoicesInvalidError,
    DeviceActor,
    DeviceCard,
    DeviceGroup,
    DeviceLine,
    NotYourDevicesError,
    OfferClosedError,
    PendingDevices,
    ReviewForm,
    ServiceChoice,
    SkippedDevice,
    UnitChange,
    UnknownOfferError,
)
from services.devices.routing import DeviceRouting
from services.devices.rules import ServiceRules
from services.i18n import Translator
from services.onboarding.actor import BusyError
from services.onboarding.facts import CompanyFacts
from services.onboarding.plan import Plan
from services.onboarding.plan_devices import (
    DevicesRequest,
    attached_to,
    build_device_plan,
    counts_devices,
    is_devices,
    skip_reason,
)
from services.onboarding.records import RunReport
from services.onboarding.runner import Runner
from services.onboarding.runs import Runs, quietly
from services.reminders.policy import BusinessHours
from services.reminders.routing import was_sent
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import DeviceFollowUp, DeviceOffer, OfferedDevice, Onboarding

logger = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)
EN = Translator("en")
OPEN_OFFER = (OFFERED, SNOOZED, FAILED)  # states in which the buttons act
Choices = Mapping[int, int | None]  # device id -> service id, None: skip it this time


@dataclass
class SweepResult:
    claimed: int = 0  # follow-ups looked at
    queries: int = 0  # ConfigurationItems queries (each may be several pages)
    offers: int = 0  # DMs sent
    devices: int = 0  # devices offered in them
    deferred: int = 0  # new devices held back: outside business hours, or snoozed
    ended: int = 0


class DeviceFollowUps:
    def __init__(
        self,
        *,
        client: AutotaskClient,
        reference: ReferenceData,
        db: Database,
        runner: Runner,
        notifier: DeviceRouting | None,
        hours: BusinessHours,
        rules: ServiceRules,
        quiet_days: int = 30,
        every: timedelta = timedelta(hours=1),
        onboarding_admins: Collection[str] = (),
        batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        claim_lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self.client, self.reference, self.db, self.runner = client, reference, db, runner
        self.notifier, self.hours, self.rules = notifier, hours, rules
        self.quiet, self.every, self.batch = timedelta(days=quiet_days), every, batch
        self.clock, self.claim_lease = clock, claim_lease
        self.admins = {e.strip().casefold() for e in onboarding_admins if e.strip()}
        self.runs: Runs | None = None  # bound by bot/ once the onboarding service exists

    def bind(self, runs: Runs) -> None:
        """The runs an attach goes through (the onboarding service's, so a resume or a Retry
        from anywhere ends in ``after_run`` here)."""
        self.runs = runs
        runs.devices = self

    # ----- the hook after every run -------------------------------------------------------------

    async def after_run(self, report: RunReport, *, first_time: bool) -> None:
        """A managed onboarding applied for the first time starts a follow-up; a devices
        onboarding that ended updates its offer and DM."""
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=report.onboarding_id)
            if onboarding is None:
                return
            request, meta = dict(onboarding.request), dict(onboarding.meta)
        if is_devices(request):
            left_out = [SkippedDevice(str(n), str(r)) for n, r in meta.get("left_out") or []]
            await self._finished(int(meta.get("devices_offer") or 0), report, left_out)
        elif request.get("client_type") == "managed" and report.status == "applied" and first_time:
            await self.start(report.onboarding_id)

    # ----- start ------------------------------------------------------------------------------

    async def start(self, onboarding_id: str) -> int | None:
        """Start following the company of an applied managed onboarding (once; the id of its
        follow-up, ``None`` when its contract cannot be found)."""
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                return None
            existing = await session.scalar(
                select(DeviceFollowUp.id).where(DeviceFollowUp.onboarding_id == onboarding_id)
            )
            if existing is not None:
                return int(existing)
            request, meta = dict(onboarding.request), dict(onboarding.meta)
            company_id, company_name = onboarding.company_id, onboarding.company_name
            requester, platform = onboarding.requested_by, onboarding.platform
        contract = await self._contract(company_id, str(request.get("contract_name") or ""))
        if contract is None or contract.id is None:
            logger.warning("onboarding %s: no recurring contract found; its devices are not "
                           "followed", onboarding_id)  # fmt: skip
            return None
        company = await self.client.get_model(Company, company_id)
        manager = await self._email_of(company.owner_resource_id if company else None)
        there = await self._devices([company_id])
        recipient = await self._recipient(platform, requester, meta, manager)
        now = self.clock()
        async with self.db.transaction() as session:
            row = DeviceFollowUp(
                onboarding_id=onboarding_id, company_id=company_id, company_name=company_name,
                contract_id=contract.id, contract_name=contract.contract_name or "",
                contract_end=_when(contract.end_date), sla=contract.service_level_agreement_id,
                recipient_user_id=recipient[0], recipient_platform=recipient[1],
                manager_email=manager, requester_id=requester, requester_platform=platform,
                locale=recipient[2], tz=recipient[3], status="open", next_at=now + self.every,
                last_new_at=now,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            for device in there.get(company_id, []):
                session.add(OfferedDevice(followup_id=row.id, device_id=device.id,
                                          name=_title(device), state="existing"))  # fmt: skip
            followup_id = row.id
        logger.info("onboarding %s: following the devices of %s (%d off the contract now, "
                    "not offered)", onboarding_id, company_name,
                    len(there.get(company_id, [])))  # fmt: skip
        return followup_id

    async def _contract(self, company_id: int, name: str) -> Contract | None:
        recurring = (await self.reference.picklist("contract_type")).id_for("Recurring Service")
        found = await self.client.query_models(
            Contract, [f("companyID").eq(company_id), f("contractName").eq(name)]
        )
        return next((c for c in found if c.contract_type == recurring), None)

    async def _email_of(self, resource_id: int | None) -> str | None:
        if resource_id is None:
            return None
        people = {r.id: r.email for r in await self.reference.active_resources()}
        return people.get(resource_id)

    async def _recipient(
        self, platform: str, requester: str, meta: Mapping[str, Any], manager: str | None
    ) -> tuple[str | None, str | None, str, str | None]:
        """(chat user id, platform, locale, tz) of whom offers go to: the requester where they
        asked, else (a terminal onboarding) the account manager found by e-mail."""
        locale = str(meta.get("locale") or "en")
        if self.notifier is None:
            return None, None, locale, None
        email = meta.get("requester_email")
        if self.notifier.serves(platform):
            found = await self.notifier.find_user(str(email), prefer=platform) if email else None
            if found is not None and found.platform == platform:
                return requester, platform, found.locale, found.tz
            return requester, platform, locale, None
        found = await self.notifier.find_user(manager) if manager else None
        if found is None:
            logger.warning("the account manager %s has no chat account: device offers are only "
                           "listed by `onboard-bot devices`", manager)  # fmt: skip
            return None, None, locale, None
        return found.id, found.platform, found.locale, found.tz

    # ----- the sweep --------------------------------------------------------------------------

    async def sweep(self) -> SweepResult:
        """Every due follow-up, 500 at a time; safe to run in several replicas at once."""
        result = SweepResult()
        while True:
            claimed = await self._claim()
            if not claimed:
                return result
            result.claimed += len(claimed)
            companies = sorted({r.company_id for r in claimed})
            devices = await self._devices(companies)
            result.queries += len(chunked_in("companyID", companies))
            contracts = await self._contracts([r.contract_id for r in claimed])
            result.queries += len(chunked_in("id", sorted({r.contract_id for r in claimed})))
            known = await self._known([r.id for r in claimed])
            fresh = {
                r.id: [d for d in devices.get(r.company_id, []) if d.id not in known[r.id]]
                for r in claimed
            }
            services = await self._services([r.contract_id for r in claimed if fresh[r.id]])
            for row in claimed:
                try:
                    await self._handle(row, contracts.get(row.contract_id), fresh[row.id],
                                       services.get(row.contract_id, []), result)  # fmt: skip
                except Exception:
                    # One broken follow-up must not stop the others; its lease brings it back.
                    logger.exception("device follow-up %s failed; it will be retried", row.id)

    async def _claim(self) -> list[DeviceFollowUp]:
        now = self.clock()
        async with self.db.transaction() as session:
            stmt = (
                select(DeviceFollowUp)
                .where(DeviceFollowUp.status == "open", DeviceFollowUp.next_at <= now)
                .order_by(DeviceFollowUp.next_at)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(stmt)).scalars().all())
            token = uuid.uuid4().hex
            for row in rows:  # invisible to other sweeps until handled or the lease ran out
                row.next_at, row.claim_token = now + self.claim_lease, token
            return rows

    async def _devices(self, companies: Sequence[int]) -> dict[int, list[ConfigurationItem]]:
        """The active configuration items on no contract of these companies: one query per 500
        companies (the client follows Autotask's pages)."""
        found: dict[int, list[ConfigurationItem]] = {}
        for condition in chunked_in("companyID", sorted(set(companies))):
            filters = [condition, f("isActive").eq(True), f("contractID").not_exists()]
            for device in await self.client.query_models(ConfigurationItem, filters):
                if device.id is not None and device.company_id is not None:
                    found.setdefault(device.company_id, []).append(device)
        return found

    async def _contracts(self, ids: Sequence[int]) -> dict[int, Contract]:
        """The follow-ups' contracts as Autotask has them now (an end date moved by a renewal
        counts), one query per 500."""
        found: dict[int, Contract] = {}
        for condition in chunked_in("id", sorted(set(ids))):
            for contract in await self.client.query_models(Contract, [condition],
                                                           limit=len(condition.value)):  # fmt: skip
                if contract.id is not None:
                    found[contract.id] = contract
        return found

    async def _services(self, contracts: Sequence[int]) -> dict[int, list[ContractService]]:
        found: dict[int, list[ContractService]] = {}
        for condition in chunked_in("contractID", sorted(set(contracts))):
            for row in await self.client.query_models(ContractService, [condition]):
                found.setdefault(row.contract_id or 0, []).append(row)
        return found

    async def _known(self, followups: Sequence[int]) -> dict[int, set[int]]:
        known: dict[int, set[int]] = {i: set() for i in followups}
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(OfferedDevice.followup_id, OfferedDevice.device_id).where(
                    OfferedDevice.followup_id.in_(list(followups))
                )
            )
            for followup_id, device_id in rows:
                known[followup_id].add(device_id)
        return known

    async def _handle(
        self,
        row: DeviceFollowUp,
        contract: Contract | None,
        new: list[ConfigurationItem],
        services: list[ContractService],
        result: SweepResult,
    ) -> None:
        now = self.clock()
        if contract is None:  # deleted in Autotask: nothing left to attach devices to
            result.ended += await self._end(row.id, "gone")
            return
        end = _when(contract.end_date)
        if end != row.contract_end:
            async with self.db.transaction() as session:
                await session.execute(update(DeviceFollowUp).where(DeviceFollowUp.id == row.id)
                                      .values(contract_end=end))  # fmt: skip
        if end is not None and end <= now:
            result.ended += await self._end(row.id, "contract_ended")
            return
        if not new:
            if now - row.last_new_at >= self.quiet:
                result.ended += await self._end(row.id, "quiet")
            else:
                await self._release(row, now + self.every)
            return
        if row.snoozed_until is not None and row.snoozed_until > now:
            result.deferred += 1
            await self._release(row, row.snoozed_until)
            return
        slot = self.hours.next_slot(now, row.tz)
        if slot > now:
            result.deferred += 1
            await self._release(row, slot)
            return
        offer_id = await self._record(row, new, await self._choices(services), now)
        if offer_id is None:
            return  # the claim ran out and another sweep has the follow-up now
        result.offers += 1
        result.devices += len(new)
        await self._send(offer_id)

    async def _release(self, row: DeviceFollowUp, next_at: datetime) -> None:
        table = DeviceFollowUp
        async with self.db.transaction() as session:
            await session.execute(
                update(table).where(table.id == row.id, table.claim_token == row.claim_token)
                .values(next_at=next_at, claim_token=None)
            )  # fmt: skip

    async def _choices(self, services: list[ContractService]) -> list[ServiceChoice]:
        names = {s.id: s.name for s in await self.reference.services()}
        return sorted(
            (ServiceChoice(cs.service_id, names.get(cs.service_id) or f"#{cs.service_id}")
             for cs in services if cs.service_id is not None),
            key=lambda s: s.name.casefold(),
        )  # fmt: skip

    async def _record(
        self,
        row: DeviceFollowUp,
        new: list[ConfigurationItem],
        services: list[ServiceChoice],
        now: datetime,
    ) -> int | None:
        """Record the offer of ``new`` under the follow-up's claim (the fence: a sweep that
        outlived its claim records nothing); ``None`` when the claim was lost."""
        types = await self.reference.picklist("ci_type")
        table = DeviceFollowUp
        try:
            async with self.db.transaction() as session:
                fenced = await repo.matched(session,
                    update(table).where(table.id == row.id, table.status == "open",
                                        table.claim_token == row.claim_token)
                    .values(claim_token=None, last_new_at=now, next_at=now + self.every)
                )  # fmt: skip
                if fenced != 1:
                    return None
                offer = DeviceOffer(followup_id=row.id, state=OFFERED, message_ref={}, outcome={})
                session.add(offer)
                await session.flush()
                for device in new:
                    kind = types.label_for(device.configuration_item_type)
                    suggested = self.rules.suggest(kind, services)
                    session.add(OfferedDevice(
                        followup_id=row.id, offer_id=offer.id, device_id=device.id,
                        name=_title(device), kind=kind,
                        suggested_service_id=suggested.service_id if suggested else None,
                        state=OFFERED,
                    ))  # fmt: skip
                return offer.id
        except IntegrityError:  # recorded by another sweep meanwhile: offered once, by it
            logger.warning("device follow-up %s: its devices were offered by another sweep", row.id)
            return None

    async def _send(self, offer_id: int) -> None:
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            followup = await session.get(DeviceFollowUp, offer.followup_id) if offer else None
            if followup is None or followup.recipient_user_id is None or self.notifier is None:
                return
            to, platform, locale = (
                followup.recipient_user_id,
                followup.recipient_platform,
                followup.locale,
            )
        card = await self.card(offer_id)
        ref = await self.notifier.send_devices(to, card, locale, platform=platform)
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id)
                .values(message_ref={**ref, "locale": locale})
            )  # fmt: skip

    async def _end(self, followup_id: int, reason: str, *, by: str | None = None) -> int:
        """End the follow-up (once, whoever gets there first), close its open offers' DMs and
        tell the requester. 1 when this call ended it."""
        now = self.clock()
        table = DeviceFollowUp
        async with self.db.transaction() as session:
            ended = await repo.matched(session,
                update(table).where(table.id == followup_id, table.status == "open")
                .values(status="ended", end_reason=reason, ended_at=now, claim_token=None)
            )  # fmt: skip
            if ended != 1:
                return 0
            followup = await session.get(DeviceFollowUp, followup_id)
            offers = list(await session.scalars(
                select(DeviceOffer.id).where(DeviceOffer.followup_id == followup_id,
                                             DeviceOffer.state.in_(OPEN_OFFER))
            ))  # fmt: skip
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id.in_(offers)).values(state=ENDED)
            )
        assert followup is not None
        logger.info("device follow-up %s of %s ended: %s", followup_id, followup.company_name,
                    reason)  # fmt: skip
        for offer_id in offers:
            await self._redraw(offer_id)
        if self.notifier is not None:
            requester_here = self.notifier.serves(followup.requester_platform)
            to, platform = (
                (followup.requester_id, followup.requester_platform)
                if requester_here
                else (followup.recipient_user_id, followup.recipient_platform)
            )
            if to and to != by:
                await quietly(self.notifier.tell(to, f"devices.ended.{reason}", platform=platform,
                                                  company=followup.company_name,
                                                  contract=followup.contract_name),
                               "tell the requester the follow-up ended")  # fmt: skip
        return 1

    # ----- what the DM shows ------------------------------------------------------------------

    async def card(self, offer_id: int) -> DeviceCard:
        """The offer as its DM shows it now."""
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            if offer is None:
                raise UnknownOfferError()
            followup = await session.get(DeviceFollowUp, offer.followup_id)
            assert followup is not None
            devices = list(await session.scalars(
                select(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                            OfferedDevice.state == OFFERED)
                .order_by(OfferedDevice.name, OfferedDevice.device_id)
            ))  # fmt: skip
        names = {s.id: s.name for s in await self.reference.services()}
        groups: dict[int | None, list[DeviceLine]] = {}
        for d in devices:
            service = names.get(d.suggested_service_id) if d.suggested_service_id else None
            groups.setdefault(d.suggested_service_id, []).append(
                DeviceLine(d.device_id, d.name, d.kind, d.suggested_service_id, service)
            )
        ordered = sorted(groups.items(), key=lambda g: (g[0] is None, g[1][0].service or ""))
        return DeviceCard(
            offer_id=offer_id, followup_id=followup.id, company_id=followup.company_id,
            company_name=followup.company_name, contract_name=followup.contract_name,
            state=offer.state,
            groups=tuple(DeviceGroup(k, v[0].service, tuple(v)) for k, v in ordered),
            link=await self._link(followup.company_id),
            until=followup.snoozed_until if offer.state == SNOOZED else None,
            outcome=_outcome(offer.outcome) if offer.outcome else None,
            ended=followup.end_reason if offer.state == ENDED else None,
            acted_by=offer.acted_by,
        )  # fmt: skip

    async def _link(self, company_id: int) -> str | None:
        try:
            return company_url(await self.client.zone(), company_id)
        except Exception:  # a link is a nicety
            return None

    async def _redraw(self, offer_id: int) -> None:
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            ref = dict(offer.message_ref) if offer else {}
        if self.notifier is not None and was_sent(ref):
            card = await self.card(offer_id)
            await quietly(self.notifier.update_devices(ref, card, str(ref.get("locale") or "en")),
                           "update the device DM")  # fmt: skip

    # ----- who may act ------------------------------------------------------------------------

    def _may_act(self, followup: DeviceFollowUp, by: DeviceActor) -> bool:
        email = (by.email or "").casefold()
        return (
            by.local
            or (by.platform, by.user_id) == (followup.requester_platform, followup.requester_id)
            or (by.platform, by.user_id)
            == (followup.recipient_platform, followup.recipient_user_id)
            or bool(email and email == (followup.manager_email or "").casefold())
            or bool(email and email in self.admins)
        )

    async def _checked(self, offer_id: int, by: DeviceActor) -> tuple[DeviceOffer, DeviceFollowUp]:
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            followup = await session.get(DeviceFollowUp, offer.followup_id) if offer else None
        if offer is None or followup is None:
            raise UnknownOfferError()
        if not self._may_act(followup, by):
            raise NotYourDevicesError()
        return offer, followup

    async def authorize(self, actor: DeviceActor, offer_id: int) -> None:
        """Raise ``NotYourDevicesError`` unless ``actor`` may act on the offer (a front-end asks
        before opening Review; every use case checks again)."""
        offer, _ = await self._checked(offer_id, actor)
        if offer.state not in OPEN_OFFER and not await self._still_offered(offer_id):
            raise OfferClosedError()

    async def _still_offered(self, offer_id: int) -> list[OfferedDevice]:
        async with self.db.transaction() as session:
            return list(await session.scalars(
                select(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                            OfferedDevice.state == OFFERED)
            ))  # fmt: skip

    # ----- Review, preview, attach --------------------------------------------------------------

    async def review(self, actor: DeviceActor, offer_id: int) -> ReviewForm:
        """Review's form: each device still offered with its suggestion, and the services."""
        await self.authorize(actor, offer_id)
        _, followup = await self._checked(offer_id, actor)
        card = await self.card(offer_id)
        services = await self._services([followup.contract_id])
        return ReviewForm(
            offer_id, followup.company_name,
            tuple(d for g in card.groups for d in g.devices),
            tuple(await self._choices(services.get(followup.contract_id, []))),
        )  # fmt: skip

    async def preview(
        self, actor: DeviceActor, offer_id: int, choices: Choices | None = None
    ) -> AttachPreview:
        """What attaching would do now (``choices`` None: as suggested), from a fresh read of
        Autotask; nothing is written. ``ChoicesInvalidError`` for Review's bad choices."""
        await self.authorize(actor, offer_id)
        _, followup = await self._checked(offer_id, actor)
        request, facts, left_out = await self._request(followup, offer_id, choices)
        plan = build_device_plan(request, facts, today=self.clock().date())
        return _preview(offer_id, plan, request, facts, left_out)

    async def _request(
        self, followup: DeviceFollowUp, offer_id: int, choices: Choices | None
    ) -> tuple[DevicesRequest, CompanyFacts, list[SkippedDevice]]:
        """The devices request for the offer's devices still offered: the mapping, and the
        target units of each service that counts devices (``plan_devices.counts_devices``)."""
        offered = await self._still_offered(offer_id)
        facts = await self.runner.facts({"company": followup.company_id})
        if facts is None:
            raise OfferClosedError()
        on_contract = {
            cs.service_id: cs for cs in facts.contract_services.get(followup.contract_id, [])
        }
        mapping, left_out = _mapping(offered, choices, set(on_contract))
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
        return request, facts, left_out

    async def validate(self, actor: DeviceActor, offer_id: int, choices: Choices) -> None:
        """Check Review's choices without attaching (one Autotask query: the contract's
        services), so a form can answer with its errors in time; ``attach`` checks again."""
        await self.authorize(actor, offer_id)
        _, followup = await self._checked(offer_id, actor)
        services = await self._services([followup.contract_id])
        on_contract = {cs.service_id for cs in services.get(followup.contract_id, [])}
        _mapping(await self._still_offered(offer_id), choices, on_contract)

    async def attach(
        self,
        actor: DeviceActor,
        offer_id: int,
        choices: Choices | None = None,
        *,
        on_accepted: Callable[[], Awaitable[None]] | None = None,
    ) -> AttachOutcome:
        """Attach the offer's devices (``choices`` None: as suggested; a FAILED offer is then
        retried) through the onboarding runner. ``on_accepted`` is awaited once the person and
        the choices are checked, before any Autotask write."""
        assert self.runs is not None, "bind(runs) first"
        offer, followup = await self._checked(offer_id, actor)
        if followup.status != "open":
            raise OfferClosedError()
        if offer.state == ATTACHING:
            raise AttachBusyError()
        retry = bool(offer.state == FAILED and choices is None and offer.attach_onboarding_id)
        onboarding_id: str | None = offer.attach_onboarding_id if retry else None
        left_out: list[SkippedDevice] = []
        if onboarding_id is None:
            if not await self._still_offered(offer_id):
                raise OfferClosedError()
            request, facts, left_out = await self._request(followup, offer_id, choices)
            plan = build_device_plan(request, facts, today=self.clock().date())
        if not await self._take(offer_id, actor, left_out):
            raise AttachBusyError()
        try:
            if onboarding_id is None:
                onboarding_id = await self._store(actor, request, plan, offer_id, left_out)
        except BaseException:
            await self._give_back(offer_id)  # nothing stored: the buttons act again
            raise
        # From here the run is the onboarding's: a crash leaves it to the orphan sweep, whose
        # resume ends in after_run like this one.
        await self._redraw(offer_id)
        if on_accepted is not None:
            await on_accepted()
        try:
            report = await self.runs.run(onboarding_id, fresh=not retry)
        except BusyError:
            raise AttachBusyError() from None
        except AutotaskError as exc:  # Autotask could not be read before the first step
            await self._failed_early(offer_id, onboarding_id, str(exc))
        else:
            if report.lease_lost:
                logger.info("offer %s: another process carries the attach on", offer_id)
        card = await self.card(offer_id)
        return card.outcome or AttachOutcome(card.state, (), (), tuple(left_out))

    async def _take(self, offer_id: int, actor: DeviceActor, left_out: list[SkippedDevice]) -> bool:
        """Mark the offer attaching (once: a second click or replica gets ``False``) and the
        devices Review left out as skipped."""
        async with self.db.transaction() as session:
            taken = await repo.matched(session,
                update(DeviceOffer).where(DeviceOffer.id == offer_id,
                                          DeviceOffer.state.in_(OPEN_OFFER))
                .values(state=ATTACHING, acted_by=actor.user_id)
            )  # fmt: skip
            if taken != 1:
                return False
            if left_out:
                names = [s.name for s in left_out]
                await session.execute(
                    update(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                                OfferedDevice.state == OFFERED,
                                                OfferedDevice.name.in_(names))
                    .values(state="skipped")
                )  # fmt: skip
            return True

    async def _give_back(self, offer_id: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id, DeviceOffer.state == ATTACHING)
                .values(state=OFFERED)
            )  # fmt: skip

    async def _store(
        self, actor: DeviceActor, request: DevicesRequest, plan: Plan, offer_id: int,
        left_out: list[SkippedDevice],
    ) -> str:  # fmt: skip
        """The devices onboarding; ``meta`` names its offer and the devices Review left out (not
        steps of the run, but part of what the DM reports)."""
        onboarding_id = await self.runner.store(
            request, plan, platform=actor.platform or "console", requested_by=actor.user_id,
            meta={"origin": {}, "locale": actor.locale, "devices_offer": offer_id,
                  "left_out": [[s.name, s.reason] for s in left_out]},
        )  # fmt: skip
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id)
                .values(attach_onboarding_id=onboarding_id)
            )  # fmt: skip
        return onboarding_id

    async def _failed_early(self, offer_id: int, onboarding_id: str, error: str) -> None:
        outcome = AttachOutcome(FAILED, (), (), (), None, error, onboarding_id)
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id)
                .values(state=FAILED, outcome=_outcome_json(outcome))
            )  # fmt: skip
        await self._redraw(offer_id)

    async def _finished(
        self, offer_id: int, report: RunReport, left_out: list[SkippedDevice]
    ) -> None:
        """A devices run ended (here or in another process): record what it did on the offer
        and its devices, and show it in the DM."""
        outcome = outcome_of(report)
        outcome = replace(outcome, skipped=(*outcome.skipped, *left_out))
        done = {s.key.split(":", 1)[1] for s in report.steps if s.kind == "device"
                and s.state in ("done", "skipped")}  # fmt: skip
        skipped = {s.key.split(":", 1)[1] for s in report.steps if s.kind == "device_skipped"}
        state = {"applied": ATTACHED, "failed": FAILED, "cancelled": FAILED}.get(report.status)
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            if offer is None:
                return
            for ids, value in ((done, "attached"), (skipped, "skipped")):
                if ids:
                    await session.execute(
                        update(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                                    OfferedDevice.device_id.in_([int(i) for i in ids]))
                        .values(state=value)
                    )  # fmt: skip
            if state is not None:
                still = await session.scalar(
                    select(OfferedDevice.id).where(OfferedDevice.offer_id == offer_id,
                                                   OfferedDevice.state == OFFERED).limit(1)
                )  # fmt: skip
                offer.state = state if state == FAILED or still is None else OFFERED
                offer.outcome = _outcome_json(outcome)
        await self._redraw(offer_id)

    # ----- the other buttons ----------------------------------------------------------------------

    async def not_managed(
        self, actor: DeviceActor, offer_id: int, device_ids: Collection[int] | None = None
    ) -> DeviceCard:
        """ "Not a managed device": these devices (``None``: all still offered) are never offered
        or attached by the follow-up; the DM shows what is left."""
        offer, followup = await self._checked(offer_id, actor)
        if offer.state not in OPEN_OFFER or followup.status != "open":
            raise OfferClosedError()
        async with self.db.transaction() as session:
            stmt = update(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                               OfferedDevice.state == OFFERED)  # fmt: skip
            if device_ids is not None:
                stmt = stmt.where(OfferedDevice.device_id.in_(list(device_ids)))
            await session.execute(stmt.values(state="not_managed"))
            left = await session.scalar(
                select(OfferedDevice.id).where(OfferedDevice.offer_id == offer_id,
                                               OfferedDevice.state == OFFERED).limit(1)
            )  # fmt: skip
            if left is None:
                await session.execute(
                    update(DeviceOffer).where(DeviceOffer.id == offer_id,
                                              DeviceOffer.state.in_(OPEN_OFFER))
                    .values(state=DISMISSED if not offer.outcome else ATTACHED,
                            acted_by=actor.user_id)
                )  # fmt: skip
        await self._redraw(offer_id)
        return await self.card(offer_id)

    async def complete(self, actor: DeviceActor, offer_id: int) -> bool:
        """ "Rollout complete": the follow-up ends now (``False``: it had ended already)."""
        _, followup = await self._checked(offer_id, actor)
        return bool(await self._end(followup.id, "complete", by=actor.user_id))

    async def snooze(self, actor: DeviceActor, offer_id: int, days: int) -> datetime:
        """No offer from this follow-up before business hours ``days`` from now."""
        _, followup = await self._checked(offer_id, actor)
        if followup.status != "open":
            raise OfferClosedError()
        until = self.hours.snoozed(self.clock(), followup.tz, days)
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceFollowUp).where(DeviceFollowUp.id == followup.id)
                .values(snoozed_until=until)
            )  # fmt: skip
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id,
                                          DeviceOffer.state == OFFERED).values(state=SNOOZED)
            )  # fmt: skip
        await self._redraw(offer_id)
        return until

    # ----- the terminal -------------------------------------------------------------------------

    async def pending(self, actor: DeviceActor, company: str | None = None) -> list[PendingDevices]:
        """Open follow-ups' devices still waiting for a decision (``company``: a part of its
        name), for the people who may act on them."""
        wanted = (company or "").strip().casefold()
        async with self.db.transaction() as session:
            rows = list(await session.scalars(
                select(DeviceFollowUp).where(DeviceFollowUp.status == "open")
                .order_by(DeviceFollowUp.company_name)
            ))  # fmt: skip
        found: list[PendingDevices] = []
        for followup in rows:
            if wanted and wanted not in followup.company_name.casefold():
                continue
            if not self._may_act(followup, actor):
                continue
            async with self.db.transaction() as session:
                offers = list(await session.scalars(
                    select(DeviceOffer.id).where(DeviceOffer.followup_id == followup.id,
                                                 DeviceOffer.state.in_(OPEN_OFFER))
                    .order_by(DeviceOffer.id)
                ))  # fmt: skip
            for offer_id in offers:
                card = await self.card(offer_id)
                devices = tuple(d for g in card.groups for d in g.devices)
                if devices:
                    found.append(PendingDevices(followup.id, offer_id, followup.company_id,
                                                followup.company_name, followup.contract_name,
                                                devices))  # fmt: skip
        return found

    async def offered(self, offer_id: int) -> Onboarding | None:
        """The devices onboarding an offer's attach stored (audit, tests)."""
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            if offer is None or offer.attach_onboarding_id is None:
                return None
            return await repo.get_onboarding(session, onboarding_id=offer.attach_onboarding_id)


def _mapping(
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


# ----- outcomes ----------------------------------------------------------------------------------


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


def _preview(
    offer_id: int,
    plan: Plan,
    request: DevicesRequest,
    facts: CompanyFacts,
    left_out: list[SkippedDevice],
) -> AttachPreview:
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


def _outcome_json(outcome: AttachOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "attached": [[d.device_id, d.name, d.service] for d in outcome.attached],
        "units": [[u.service, u.before, u.after] for u in outcome.units],
        "skipped": [[s.name, s.reason] for s in outcome.skipped],
        "failed_step": outcome.failed_step,
        "error": outcome.error,
        "onboarding_id": outcome.onboarding_id,
    }


def _outcome(data: Mapping[str, Any]) -> AttachOutcome:
    return AttachOutcome(
        status=str(data.get("status")),
        attached=tuple(DeviceLine(int(i), str(n), None, None, s) for i, n, s in data.get("attached") or []),
        units=tuple(UnitChange(str(s), int(b), int(a)) for s, b, a in data.get("units") or []),
        skipped=tuple(SkippedDevice(str(n), str(r)) for n, r in data.get("skipped") or []),
        failed_step=data.get("failed_step"), error=data.get("error"),
        onboarding_id=data.get("onboarding_id"),
    )  # fmt: skip


def _title(device: ConfigurationItem) -> str:
    return device.reference_title or f"#{device.id}"


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
