"""The sweep of due follow-ups: claimed like the reminders (``FOR UPDATE SKIP LOCKED``, a lease
in ``next_at`` and a claim token, so two schedulers never offer the same batch), the active
configuration items with no contract of up to 500 companies read in one query, the new ones
recorded (once per follow-up: a unique index, written only under the claim) and DM'd inside the
recipient's business hours; a follow-up quiet for ``quiet`` or whose contract ended is ended."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.autotask.filters import chunked_in
from services.autotask.models import ConfigurationItem, Contract, ContractService
from services.autotask.reference import ReferenceData
from services.devices.autotask_reads import DeviceReads
from services.devices.cards import OFFERED, ServiceChoice
from services.devices.ending import FollowUpEnding
from services.devices.messages import OfferMessages
from services.devices.outcomes import device_title, parse_when
from services.devices.rules import ServiceRules
from services.reminders.policy import BusinessHours
from services.reminders.routing import was_sent
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import DeviceFollowUp, DeviceOffer, OfferedDevice

logger = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)


@dataclass
class SweepResult:
    claimed: int = 0  # follow-ups looked at
    queries: int = 0  # ConfigurationItems queries (each may be several pages)
    offers: int = 0  # offers recorded, each one DM
    resent: int = 0  # offers whose DM had failed, sent again
    devices: int = 0  # devices offered in them
    deferred: int = 0  # new devices held back: outside business hours, or snoozed
    ended: int = 0


@dataclass(frozen=True)
class SweepPolicy:
    """When a follow-up is looked at again, and how many are claimed at once."""

    quiet: timedelta  # no new device for this long: the follow-up ends
    every: timedelta  # the interval between two looks at one follow-up
    batch: int  # follow-ups claimed per round (one ConfigurationItems query per 500 companies)
    claim_lease: timedelta  # a claim not handled by then is another sweep's to take


class DeviceSweep:
    def __init__(
        self,
        *,
        db: Database,
        reads: DeviceReads,
        reference: ReferenceData,
        messages: OfferMessages,
        ending: FollowUpEnding,
        hours: BusinessHours,
        rules: ServiceRules,
        policy: SweepPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self.db, self.reads, self.reference = db, reads, reference
        self.messages, self.ending = messages, ending
        self.hours, self.rules, self.policy, self.clock = hours, rules, policy, clock

    async def sweep(self) -> SweepResult:
        """Every due follow-up, 500 at a time; safe to run in several replicas at once."""
        result = SweepResult()
        while True:
            claimed = await self._claim()
            if not claimed:
                return result
            result.claimed += len(claimed)
            companies = sorted({r.company_id for r in claimed})
            devices = await self.reads.devices(companies)
            result.queries += len(chunked_in("companyID", companies))
            contracts = await self.reads.contracts([r.contract_id for r in claimed])
            result.queries += len(chunked_in("id", sorted({r.contract_id for r in claimed})))
            known = await self._known([r.id for r in claimed])
            unsent = await self._unsent([r.id for r in claimed])
            fresh = {
                r.id: [d for d in devices.get(r.company_id, []) if d.id not in known[r.id]]
                for r in claimed
            }
            services = await self.reads.services([r.contract_id for r in claimed if fresh[r.id]])
            for row in claimed:
                try:
                    await self._handle(row, contracts.get(row.contract_id), fresh[row.id],
                                       services.get(row.contract_id, []), result,
                                       unsent.get(row.id, []))  # fmt: skip
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
                .limit(self.policy.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(stmt)).scalars().all())
            token = uuid.uuid4().hex
            for row in rows:  # invisible to other sweeps until handled or the lease ran out
                row.next_at, row.claim_token = now + self.policy.claim_lease, token
            return rows

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
        unsent: Sequence[int] = (),
    ) -> None:
        now = self.clock()
        if contract is None:  # deleted in Autotask: nothing left to attach devices to
            result.ended += await self.ending.end(row.id, "gone")
            return
        end = parse_when(contract.end_date)
        if end != row.contract_end:
            async with self.db.transaction() as session:
                await session.execute(update(DeviceFollowUp).where(DeviceFollowUp.id == row.id)
                                      .values(contract_end=end))  # fmt: skip
        if end is not None and end <= now:
            result.ended += await self.ending.end(row.id, "contract_ended")
            return
        if not new:
            if now - row.last_new_at >= self.policy.quiet:
                result.ended += await self.ending.end(row.id, "quiet")
                return
            if not unsent:
                await self._release(row, now + self.policy.every)
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
        for earlier in unsent:  # its DM failed (chat down, a refusal): under this claim, once
            result.resent += await self._dm(earlier)
        if not new:
            await self._release(row, now + self.policy.every)
            return
        offer_id = await self._record(row, new, await self.reads.choices(services), now)
        if offer_id is None:
            return  # the claim ran out and another sweep has the follow-up now
        result.offers += 1
        result.devices += len(new)
        await self._dm(offer_id)

    async def _dm(self, offer_id: int) -> bool:
        """Send an offer's DM. The chat platform failing is expected now and then (Slack down, the
        app removed): the offer stays recorded, unsent, and the next look sends it."""
        try:
            return await self.messages.send(offer_id)
        except Exception as exc:
            logger.warning("device offer %s: its DM could not be sent (%s: %s); the next sweep "
                           "tries again", offer_id, type(exc).__name__, exc)  # fmt: skip
            return False

    async def _unsent(self, followups: Sequence[int]) -> dict[int, list[int]]:
        """The open offers whose DM never went out (the chat platform failed when they were
        recorded): the next look at the follow-up sends them, so no device is left to the
        terminal alone. A follow-up with nobody to DM has none (nothing could be sent)."""
        if not followups:
            return {}
        table = DeviceOffer
        async with self.db.transaction() as session:
            rows = (await session.execute(
                select(table.followup_id, table.id, table.message_ref)
                .join(DeviceFollowUp, DeviceFollowUp.id == table.followup_id)
                .where(table.followup_id.in_(followups), table.state == OFFERED,
                       DeviceFollowUp.recipient_user_id.is_not(None))
                .order_by(table.id)
            )).all()  # fmt: skip
        unsent: dict[int, list[int]] = {}
        for followup_id, offer_id, ref in rows:
            if not was_sent(dict(ref or {})):
                unsent.setdefault(followup_id, []).append(offer_id)
        return unsent

    async def _release(self, row: DeviceFollowUp, next_at: datetime) -> None:
        table = DeviceFollowUp
        async with self.db.transaction() as session:
            await session.execute(
                update(table).where(table.id == row.id, table.claim_token == row.claim_token)
                .values(next_at=next_at, claim_token=None)
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
                    .values(claim_token=None, last_new_at=now, next_at=now + self.policy.every)
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
                        name=device_title(device), kind=kind,
                        suggested_service_id=suggested.service_id if suggested else None,
                        state=OFFERED,
                    ))  # fmt: skip
                return offer.id
        except IntegrityError:  # recorded by another sweep meanwhile: offered once, by it
            logger.warning("device follow-up %s: its devices were offered by another sweep", row.id)
            return None
