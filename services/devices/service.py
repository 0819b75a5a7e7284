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

This module holds the use cases a front-end calls and who may act on them; the rest is composed:
``sweep.py`` (the sweep), ``autotask_reads.py`` (the batched reads), ``messages.py`` (the DM),
``ending.py`` (ending a follow-up), ``attach.py`` (the attach bookkeeping), ``choices.py``
(Review's choices -> the devices request) and ``outcomes.py`` (pure outcome functions).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from services.autotask.client import AutotaskClient
from services.autotask.errors import AutotaskError
from services.autotask.models import Company
from services.autotask.reference import ReferenceData
from services.devices.attach import AttachBookkeeping
from services.devices.autotask_reads import DeviceReads
from services.devices.cards import (
    ATTACHED,
    ATTACHING,
    DISMISSED,
    FAILED,
    OFFERED,
    OPEN_OFFER,
    SNOOZED,
    AttachBusyError,
    AttachOutcome,
    AttachPreview,
    DeviceActor,
    DeviceCard,
    NotYourDevicesError,
    OfferClosedError,
    PendingDevices,
    ReviewForm,
    SkippedDevice,
    UnknownOfferError,
)
from services.devices.choices import Choices, devices_request, mapping_of
from services.devices.ending import FollowUpEnding
from services.devices.messages import OfferMessages
from services.devices.outcomes import device_title, parse_when, preview_of
from services.devices.routing import DeviceRouting
from services.devices.rules import ServiceRules
from services.devices.sweep import CLAIM_LEASE, DeviceSweep, SweepPolicy, SweepResult
from services.onboarding.actor import BusyError
from services.onboarding.facts import CompanyFacts
from services.onboarding.plan_devices import DevicesRequest, build_device_plan, is_devices
from services.onboarding.records import RunReport
from services.onboarding.runner import Runner
from services.onboarding.runs import Runs
from services.reminders.policy import BusinessHours
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import DeviceFollowUp, DeviceOffer, OfferedDevice, Onboarding

logger = logging.getLogger(__name__)
# SweepResult was defined here first; callers still import it from this module.
__all__ = ["DeviceFollowUps", "SweepResult"]


class DeviceFollowUps:
    """The use cases a front-end calls, each checking who is acting; the sweep, the DM, the
    ending and the attach bookkeeping are collaborators it composes."""

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
        self.reads = DeviceReads(client, reference)
        self.messages = OfferMessages(db, client, reference, notifier)
        self.ending = FollowUpEnding(db, self.messages, notifier, clock)
        self.attaching = AttachBookkeeping(db, runner, self.messages)
        self.sweeper = DeviceSweep(
            db=db, reads=self.reads, reference=reference, messages=self.messages,
            ending=self.ending, hours=hours, rules=rules,
            policy=SweepPolicy(self.quiet, every, batch, claim_lease), clock=clock,
        )  # fmt: skip

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
            await self.attaching.finished(int(meta.get("devices_offer") or 0), report, left_out)
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
        contract = await self.reads.recurring_contract(
            company_id, str(request.get("contract_name") or "")
        )
        if contract is None or contract.id is None:
            logger.warning("onboarding %s: no recurring contract found; its devices are not "
                           "followed", onboarding_id)  # fmt: skip
            return None
        company = await self.client.get_model(Company, company_id)
        manager = await self.reads.email_of(company.owner_resource_id if company else None)
        there = await self.reads.devices([company_id])
        recipient = await self._recipient(platform, requester, meta, manager)
        now = self.clock()
        async with self.db.transaction() as session:
            row = DeviceFollowUp(
                onboarding_id=onboarding_id, company_id=company_id, company_name=company_name,
                contract_id=contract.id, contract_name=contract.contract_name or "",
                contract_end=parse_when(contract.end_date), sla=contract.service_level_agreement_id,
                recipient_user_id=recipient[0], recipient_platform=recipient[1],
                manager_email=manager, requester_id=requester, requester_platform=platform,
                locale=recipient[2], tz=recipient[3], status="open", next_at=now + self.every,
                last_new_at=now,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            for device in there.get(company_id, []):
                session.add(OfferedDevice(followup_id=row.id, device_id=device.id,
                                          name=device_title(device), state="existing"))  # fmt: skip
            followup_id = row.id
        logger.info("onboarding %s: following the devices of %s (%d off the contract now, "
                    "not offered)", onboarding_id, company_name,
                    len(there.get(company_id, [])))  # fmt: skip
        return followup_id

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

    # ----- the sweep and the DM ---------------------------------------------------------------

    async def sweep(self) -> SweepResult:
        """Every due follow-up, 500 at a time; safe to run in several replicas at once."""
        return await self.sweeper.sweep()

    async def card(self, offer_id: int) -> DeviceCard:
        """The offer as its DM shows it now."""
        return await self.messages.card(offer_id)

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
        await self._open(offer_id, actor)

    async def _open(self, offer_id: int, by: DeviceActor) -> DeviceFollowUp:
        """The offer's follow-up, once ``by`` may act on it and it still has devices to act on."""
        offer, followup = await self._checked(offer_id, by)
        if offer.state not in OPEN_OFFER and not await self._still_offered(offer_id):
            raise OfferClosedError()
        return followup

    async def _still_offered(self, offer_id: int) -> list[OfferedDevice]:
        async with self.db.transaction() as session:
            return list(await session.scalars(
                select(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                            OfferedDevice.state == OFFERED)
            ))  # fmt: skip

    # ----- Review, preview, attach --------------------------------------------------------------

    async def review(self, actor: DeviceActor, offer_id: int) -> ReviewForm:
        """Review's form: each device still offered with its suggestion, and the services."""
        followup = await self._open(offer_id, actor)
        card = await self.card(offer_id)
        services = await self.reads.services_of(followup.contract_id)
        return ReviewForm(
            offer_id, followup.company_name,
            tuple(d for g in card.groups for d in g.devices),
            tuple(await self.reads.choices(services)),
        )  # fmt: skip

    async def preview(
        self, actor: DeviceActor, offer_id: int, choices: Choices | None = None
    ) -> AttachPreview:
        """What attaching would do now (``choices`` None: as suggested), from a fresh read of
        Autotask; nothing is written. ``ChoicesInvalidError`` for Review's bad choices."""
        followup = await self._open(offer_id, actor)
        request, facts, left_out = await self._request(followup, offer_id, choices)
        plan = build_device_plan(request, facts, today=self.clock().date())
        return preview_of(offer_id, plan, request, facts, left_out)

    async def _request(
        self, followup: DeviceFollowUp, offer_id: int, choices: Choices | None
    ) -> tuple[DevicesRequest, CompanyFacts, list[SkippedDevice]]:
        """The devices request for the offer's devices still offered, from a fresh read of the
        company (``choices.devices_request``)."""
        offered = await self._still_offered(offer_id)
        facts = await self.runner.facts({"company": followup.company_id})
        if facts is None:
            raise OfferClosedError()
        request, left_out = devices_request(followup, offer_id, offered, facts, choices)
        return request, facts, left_out

    async def validate(self, actor: DeviceActor, offer_id: int, choices: Choices) -> None:
        """Check Review's choices without attaching (against the contract's services Review
        was opened with), so a form can answer with its errors in time; ``attach`` checks
        again against Autotask."""
        followup = await self._open(offer_id, actor)
        on_contract = {cs.service_id for cs in await self.reads.services_of(followup.contract_id)}
        mapping_of(await self._still_offered(offer_id), choices, on_contract)

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
        if not await self.attaching.take(offer_id, actor, left_out):
            raise AttachBusyError()
        try:
            if onboarding_id is None:
                onboarding_id = await self.attaching.store(actor, request, plan, offer_id, left_out)
        except BaseException:
            await self.attaching.give_back(offer_id)  # nothing stored: the buttons act again
            raise
        # From here the run is the onboarding's: a crash leaves it to the orphan sweep, whose
        # resume ends in after_run like this one.
        await self.messages.redraw(offer_id)
        if on_accepted is not None:
            await on_accepted()
        try:
            report = await self.runs.run(onboarding_id, fresh=not retry)
        except BusyError:
            raise AttachBusyError() from None
        except AutotaskError as exc:  # Autotask could not be read before the first step
            await self.attaching.failed_early(offer_id, onboarding_id, str(exc))
        else:
            if report.lease_lost:
                logger.info("offer %s: another process carries the attach on", offer_id)
        card = await self.card(offer_id)
        return card.outcome or AttachOutcome(card.state, (), (), tuple(left_out))

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
        await self.messages.redraw(offer_id)
        return await self.card(offer_id)

    async def complete(self, actor: DeviceActor, offer_id: int) -> bool:
        """ "Rollout complete": the follow-up ends now (``False``: it had ended already)."""
        _, followup = await self._checked(offer_id, actor)
        return bool(await self.ending.end(followup.id, "complete", by=actor.user_id))

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
        await self.messages.redraw(offer_id)
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
