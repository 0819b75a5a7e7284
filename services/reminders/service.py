"""Reminders that keep nudging billing administrators until Autotask shows the invoice setup done.

Schedules live in the database. A sweep claims due rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a short lease in ``next_at`` and a claim token), so several replicas never send the
same nudge, even when a sweep outlives its lease: a nudge is marked only under its own claim; it
reads all claimed companies in one Companies query per 500, closes what is complete (and the
Autotask to-do with it), nudges the rest inside the recipient's business hours, and escalates to
the requester (and a channel) after N nudges. Before a nudge is sent its number is recorded, so a
crash between the chat call and the bookkeeping is seen after a restart and not sent again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from services.autotask.client import AutotaskClient
from services.autotask.filters import field
from services.autotask.models import Company, CompanyToDo, Parent
from services.autotask.reference import ReferenceData
from services.autotask.zones import Zone, company_url
from services.invoice_setup import (
    ITEMS,
    missing_items,
    read_companies,
    request_reference,
    todo_marker,
)
from services.reminders.notifier import (
    Notifier,
    NotYourReminderError,
    ReminderActor,
    ReminderCard,
    UnreachableError,
)
from services.reminders.policy import BusinessHours
from services.reminders.routing import LEGACY, RoutingNotifier, was_sent
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import ReminderSchedule

logger = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)


@dataclass
class SweepResult:
    claimed: int = 0
    nudged: int = 0
    closed: int = 0
    escalated: int = 0


@dataclass
class RecheckResult:
    companies: int = 0  # read from Autotask
    closed: int = 0  # onboardings whose reminders this call closed
    refreshed: int = 0  # reminders whose DM now shows a shorter (or longer) list


class Reminders:
    def __init__(
        self,
        *,
        client: AutotaskClient,
        reference: ReferenceData,
        db: Database,
        notifier: Notifier | RoutingNotifier,
        hours: BusinessHours,
        escalate_after: int = 3,
        escalation_channel: str | None = None,
        required: Sequence[str] = ITEMS,
        default_admins: Sequence[str] = (),
        onboarding_admins: Collection[str] = (),
        batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        claim_lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self.claim_lease = claim_lease
        self.client, self.reference, self.db = client, reference, db
        self.notifier = RoutingNotifier.of(notifier)  # Slack, Teams or both (routing.py's rule)
        self.hours, self.escalate_after, self.escalation_channel = (
            hours,
            escalate_after,
            escalation_channel,
        )
        self.required, self.default_admins, self.batch, self.clock = (
            list(required),
            list(default_admins),
            batch,
            clock,
        )
        self.onboarding_admins = {e.strip().casefold() for e in onboarding_admins if e.strip()}

    # ----- after an onboarding ------------------------------------------------------------------

    async def start(self, onboarding_id: str) -> list[int]:
        """Create the reminders of an applied onboarding and DM each billing administrator now."""
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                return []
            billing_admins = [int(i) for i in onboarding.request.get("billing_admins") or []]
            company_id, company_name, requester, platform = (
                onboarding.company_id,
                onboarding.company_name,
                onboarding.requested_by,
                onboarding.platform,
            )
        company = (await read_companies(self.client, [company_id])).get(company_id)
        if company is None:
            return []
        missing = await self._missing(company)
        if not missing:
            return []
        now = self.clock()
        created: list[ReminderSchedule] = []
        claim = uuid.uuid4().hex  # claimed by this start until its first nudge is sent
        for email in await self._recipient_emails(billing_admins, company.owner_resource_id):
            user = await self.notifier.find_user(email, prefer=platform)
            if user is None:
                logger.warning(
                    "billing administrator %s has no chat account; the requester is told instead",
                    email,
                )
                await self.notifier.tell(requester, "reminder.no_chat_account", platform=platform,
                                         email=email, company=company_name)  # fmt: skip
                continue
            async with self.db.transaction() as session:
                row = ReminderSchedule(
                    onboarding_id=onboarding_id, company_id=company_id, company_name=company_name,
                    recipient_email=email, platform_user_id=user.id, platform=user.platform,
                    tz=user.tz, requester_id=requester,
                    status="open", next_at=now + self.claim_lease, nudges=0, missing=missing,
                    message_ref={"locale": user.locale}, claim_token=claim,
                )  # fmt: skip
                session.add(row)
                await session.flush()
                created.append(row)
        for row in created:
            await self._nudge(row, missing, claim)
        return [row.id for row in created]

    async def _recipient_emails(self, billing_admins: list[int], owner_id: int | None) -> list[str]:
        """The billing administrators named in the form, else BILLING_ADMINS, else the account
        manager: the same people the plan gave the Autotask to-do."""
        people = {r.id: r.email for r in await self.reference.active_resources() if r.email}
        emails = [people[i] for i in billing_admins if i in people]
        if not emails:
            emails = list(self.default_admins)
        if not emails and owner_id is not None and owner_id in people:
            emails = [people[owner_id]]
        return emails

    async def _missing(self, company: Company) -> list[str]:
        return missing_items(
            company, await self.reference.picklist("bill_to_address"), self.required
        )

    # ----- the sweep --------------------------------------------------------------------------

    async def sweep(self) -> SweepResult:
        """Handle every due reminder, a batch at a time; safe to run in several replicas at once."""
        result = SweepResult()
        while True:
            claimed = await self._claim()
            if not claimed:
                return result
            result.claimed += len(claimed)
            companies = await read_companies(self.client, [r.company_id for r in claimed])
            for row in claimed:
                try:
                    await self._handle(row, companies.get(row.company_id), result)
                except Exception:
                    # One broken reminder must not stop the others; its lease brings it back later.
                    logger.exception("reminder %s failed; it will be retried", row.id)

    async def _claim(self) -> list[ReminderSchedule]:
        now = self.clock()
        async with self.db.transaction() as session:
            stmt = (
                select(ReminderSchedule)
                .where(ReminderSchedule.status == "open", ReminderSchedule.next_at <= now)
                .order_by(ReminderSchedule.next_at)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(stmt)).scalars().all())
            claim = uuid.uuid4().hex
            ready = []
            for row in rows:
                if row.sending_nudge is not None:
                    # A crash came between the chat call and its bookkeeping: count the nudge as
                    # sent (a repeated nudge annoys more than a missing one) and plan the next.
                    logger.warning("reminder %s: nudge %s may have been sent before a restart; not resending",
                                   row.id, row.sending_nudge)  # fmt: skip
                    row.nudges, row.sending_nudge = row.sending_nudge, None
                    row.next_at = self.hours.after_nudge(now, row.tz)
                    continue
                # invisible to other sweeps until handled or expired; then only a newer claim nudges
                row.next_at, row.claim_token = now + self.claim_lease, claim
                ready.append(row)
            return ready

    async def _handle(
        self, row: ReminderSchedule, company: Company | None, result: SweepResult
    ) -> None:
        if company is None:  # deleted or merged in Autotask: nothing left to remind about
            await self._close(row.id, reason="gone")
            result.closed += 1
            return
        missing = await self._missing(company)
        if not missing:
            await self._close(row.id)
            result.closed += 1
            return
        if not await self._nudge(row, missing, row.claim_token):
            return  # the claim ran out and another sweep has the reminder now
        result.nudged += 1
        if row.nudges >= self.escalate_after and row.escalated_at is None:
            await self._escalate(row.id, missing)
            result.escalated += 1

    async def _nudge(self, row: ReminderSchedule, missing: list[str], claim: str | None) -> bool:
        """Send nudge n+1 to the row's recipient under ``claim`` (``False``: not sent). ``row``
        is the caller's loaded copy; two one-statement transactions mark the nudge before the
        chat call and record it after. The mark is the fence: it matches only while the row is
        open and still claimed by ``claim``, so a sweep that outlived its lease (another sweep
        claimed the row since) sends nothing."""
        if row.platform_user_id is None:
            return False
        zone = await self.client.zone()
        number, locale = row.nudges + 1, row.message_ref.get("locale", "en")
        table = ReminderSchedule
        async with self.db.transaction() as session:
            marked = await repo.matched(session,
                update(table).where(table.id == row.id, table.status == "open",
                                    table.claim_token == claim, table.sending_nudge.is_(None))
                .values(sending_nudge=number, missing=missing, claim_token=None)
            )  # fmt: skip
            if marked != 1:
                return False  # closed meanwhile (Check now, the setup completed), or re-claimed
        card = self._card(row, "open", missing, nudge=number, zone=zone)
        try:
            ref = await self.notifier.send_reminder(
                row.platform_user_id, card, locale, platform=row.platform
            )
        except UnreachableError:
            moved = await self._elsewhere(row, card)
            if moved is None:
                return False
            ref, locale = moved
        message_ref = {**ref, "locale": locale}
        next_at = self.hours.after_nudge(self.clock(), row.tz)
        async with self.db.transaction() as session:
            await session.execute(
                update(table).where(table.id == row.id)
                .values(nudges=number, sending_nudge=None, message_ref=message_ref, next_at=next_at)
            )  # fmt: skip
        row.nudges, row.message_ref, row.next_at, row.missing = (
            number,
            message_ref,
            next_at,
            missing,
        )
        return True

    async def _elsewhere(
        self, row: ReminderSchedule, card: ReminderCard
    ) -> tuple[dict[str, Any], str] | None:
        """The recipient removed the app where they were reminded: the nudge goes to them on
        another configured platform, where the reminder stays (the sent message and its locale);
        ``None`` when they are nowhere any more: the reminder stops as undeliverable (the
        Autotask to-do still reminds) and the requester is told once."""
        here = (row.platform or LEGACY, row.platform_user_id)
        user = await self.notifier.find_user(row.recipient_email)
        table = ReminderSchedule
        if user is not None and (user.platform, user.id) != here:
            ref = await self.notifier.send_reminder(user.id, card, user.locale,
                                                    platform=user.platform)  # fmt: skip
            async with self.db.transaction() as session:
                await session.execute(update(table).where(table.id == row.id).values(
                    platform_user_id=user.id, platform=user.platform, tz=user.tz))  # fmt: skip
            row.platform_user_id, row.platform, row.tz = user.id, user.platform, user.tz
            logger.info("reminder %s: its recipient left %s; reminded on %s instead",
                        row.id, here[0], user.platform)  # fmt: skip
            return ref, user.locale
        async with self.db.transaction() as session:
            await session.execute(update(table).where(table.id == row.id).values(
                status="unreachable", sending_nudge=None))  # fmt: skip
            onboarding = await repo.get_onboarding(session, onboarding_id=row.onboarding_id)
            platform = onboarding.platform if onboarding else None
        logger.warning("reminder %s: nudge %s undeliverable: the recipient removed the app and "
                       "cannot be reached on any configured platform", row.id,
                       row.nudges + 1)  # fmt: skip
        if row.requester_id:
            await self.notifier.tell(row.requester_id, "reminder.no_chat_account",
                                     platform=platform, email=row.recipient_email,
                                     company=row.company_name)  # fmt: skip
        return None

    async def _escalate(self, reminder_id: int, missing: list[str]) -> None:
        table = ReminderSchedule
        async with self.db.transaction() as session:  # a conditional UPDATE: once, whoever asks
            row = (await session.scalars(
                update(table).where(table.id == reminder_id, table.escalated_at.is_(None))
                .values(escalated_at=self.clock()).returning(table),
                execution_options={"synchronize_session": False},
            )).one_or_none()  # fmt: skip
            if row is None:
                return
            requester, company, user, nudges = (
                row.requester_id,
                row.company_name,
                row.platform_user_id,
                row.nudges,
            )
            # the router names them by e-mail where that id means nothing (the other platform)
            admin = {"admin_email": row.recipient_email, "admin_platform": row.platform}
            onboarding = await repo.get_onboarding(session, onboarding_id=row.onboarding_id)
            platform = onboarding.platform if onboarding else None
        params: dict[str, Any] = {
            "company": company,
            "admin": user or "",
            "nudges": nudges,
            "missing": missing,
            **admin,
        }
        if requester:
            await self.notifier.tell(requester, "reminder.escalated", platform=platform, **params)
        if self.escalation_channel:
            await self.notifier.post_channel(
                self.escalation_channel, "reminder.escalated", **params
            )

    async def _close(self, reminder_id: int, *, reason: str = "complete") -> bool:
        """Close every reminder of the onboarding, complete its Autotask to-dos, tell the requester.

        Safe when several replicas close the same reminder at once (the same callout delivered
        to two of them, a sweep and a click): the conditional UPDATE is the claim, so only the
        one that flipped the rows tells anyone. ``False`` when another got there first."""
        zone = await self.client.zone()  # before the transaction: no remote call inside it
        table = ReminderSchedule
        async with self.db.transaction() as session:
            onboarding_id = (await session.execute(
                select(table.onboarding_id).where(table.id == reminder_id, table.status == "open")
            )).scalar_one_or_none()  # fmt: skip
            if onboarding_id is None:
                return False
            siblings = (await session.scalars(
                update(table).where(table.onboarding_id == onboarding_id, table.status == "open")
                .values(status="closed").returning(table),
                execution_options={"synchronize_session": False},
            )).all()  # fmt: skip
            if not siblings:
                return False
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            cards = [
                (s.message_ref, self._card(s, "complete", [], nudge=s.nudges, zone=zone))
                for s in siblings
            ]
            row = siblings[0]
            requester, company, company_id = row.requester_id, row.company_name, row.company_id
            reference = request_reference(onboarding.request) if onboarding else None
            platform = onboarding.platform if onboarding else None
        for ref, card in cards:
            if was_sent(ref):
                await self.notifier.update_reminder(ref, card, ref.get("locale", "en"))
        if reference:
            await self._complete_todos(company_id, reference)
        if requester and reason == "complete":
            await self.notifier.tell(
                requester, "reminder.complete", platform=platform, company=company
            )
        return True

    async def _complete_todos(self, company_id: int, reference: str) -> None:
        todos = await self.client.query_models(CompanyToDo, [
            field("companyID").eq(company_id),
            field("activityDescription").begins_with(todo_marker(reference)),
        ])  # fmt: skip
        for todo in todos:
            if todo.completed_date is None and todo.id is not None:
                await self.client.update("CompanyToDos", todo.id, {"completedDate": _stamp(self.clock())},
                                         parent=Parent("Companies", company_id, "ToDos"))  # fmt: skip

    def _card(
        self, row: ReminderSchedule, state: str, missing: list[str], *, nudge: int, zone: Zone
    ) -> ReminderCard:
        link = company_url(zone, row.company_id)
        until = row.next_at if state == "snoozed" else None
        return ReminderCard(
            row.id, row.company_id, row.company_name, missing, state, nudge, link, until
        )

    # ----- buttons ----------------------------------------------------------------------------

    async def check_now(self, reminder_id: int) -> list[str] | None:
        """Re-read Autotask: close the reminder if complete, else show what is still missing."""
        async with self.db.transaction() as session:
            row = await session.get(ReminderSchedule, reminder_id)
            if row is None:
                return None
            company_id, status = row.company_id, row.status
        company = (await read_companies(self.client, [company_id])).get(company_id)
        missing = await self._missing(company) if company else []
        if status != "open":
            return missing
        if not missing:
            await self._close(reminder_id)
            return []
        await self._show_missing(reminder_id, missing)
        return missing

    async def recheck(self, company_ids: Collection[int] | None = None) -> RecheckResult:
        """A company changed in Autotask: read it once, then close or refresh its open reminders.

        "Check now" for many reminders at once: the same readiness check and completion path.
        A webhook callout passes its one company; the safety-net sweep passes none, meaning every
        open reminder. Which companies have open reminders is decided from our own tables, so a
        callout for any other company costs no Autotask call."""
        table = ReminderSchedule
        stmt = select(table.id, table.company_id, table.onboarding_id, table.missing).where(
            table.status == "open"
        )
        if company_ids is not None:
            if not company_ids:
                return RecheckResult()
            stmt = stmt.where(table.company_id.in_(sorted(set(company_ids))))
        async with self.db.transaction() as session:
            rows = (await session.execute(stmt.order_by(table.id))).all()
        result = RecheckResult()
        if not rows:
            return result
        companies = await read_companies(self.client, [r.company_id for r in rows])
        result.companies = len({r.company_id for r in rows})
        done: set[str] = set()
        for row in rows:
            if row.onboarding_id in done:
                continue  # closed with a sibling reminder of the same onboarding
            company = companies.get(row.company_id)
            missing = await self._missing(company) if company else []
            if not missing:
                done.add(row.onboarding_id)
                if await self._close(row.id, reason="complete" if company else "gone"):
                    result.closed += 1
            elif missing != list(row.missing):
                await self._show_missing(row.id, missing)
                result.refreshed += 1
        return result

    async def _show_missing(self, reminder_id: int, missing: list[str]) -> None:
        """Record what is still missing and show it on the DM in place (not a new nudge)."""
        zone = await self.client.zone()
        async with self.db.transaction() as session:
            row = await session.get(ReminderSchedule, reminder_id)
            if row is None or row.status != "open":
                return
            row.missing = missing
            ref, card = (
                row.message_ref,
                self._card(row, "open", missing, nudge=row.nudges, zone=zone),
            )
        if was_sent(ref):
            await self.notifier.update_reminder(ref, card, ref.get("locale", "en"))

    # Who may press which button. Check now only re-reads Autotask and shows the result in the
    # recipient's own DM (closing the reminder only when Autotask says the setup is complete), so
    # it is harmless whoever asks and takes no actor. Snooze and Not mine change who is nudged and
    # when: only the recipient, the onboarding's requester or an ONBOARDING_ADMINS member.

    def _may_act(self, row: ReminderSchedule, by: ReminderActor) -> bool:
        email = (by.email or "").casefold()
        return (
            by.user_id in (row.platform_user_id, row.requester_id)
            or bool(email and email == (row.recipient_email or "").casefold())
            or bool(email and email in self.onboarding_admins)
        )

    async def authorize(self, reminder_id: int, *, by: ReminderActor) -> None:
        """Raise ``NotYourReminderError`` unless ``by`` may snooze or hand over the reminder (a
        front-end asks before opening the hand-over form; the use cases check again)."""
        async with self.db.transaction() as session:
            row = await session.get(ReminderSchedule, reminder_id)
            if row is not None and not self._may_act(row, by):
                raise NotYourReminderError()

    async def snooze(self, reminder_id: int, days: int, *, by: ReminderActor) -> datetime | None:
        zone = await self.client.zone()  # before the transaction: no remote call inside it
        async with self.db.transaction() as session:
            row = await session.get(ReminderSchedule, reminder_id)
            if row is not None and not self._may_act(row, by):
                raise NotYourReminderError()
            if row is None or row.status != "open":
                return None
            row.next_at = self.hours.snoozed(self.clock(), row.tz, days)
            ref, card = (
                row.message_ref,
                self._card(row, "snoozed", list(row.missing), nudge=row.nudges, zone=zone),
            )
            until = row.next_at
        if was_sent(ref):
            await self.notifier.update_reminder(ref, card, ref.get("locale", "en"))
        return until

    async def hand_over(self, reminder_id: int, email: str, *, by: ReminderActor) -> bool:
        """ "Not mine": the reminder goes to another billing administrator, who is nudged now."""
        await self.authorize(reminder_id, by=by)
        zone = await self.client.zone()
        async with self.db.transaction() as session:
            found = await session.get(ReminderSchedule, reminder_id)
            onboarding = (
                await repo.get_onboarding(session, onboarding_id=found.onboarding_id)
                if found
                else None
            )
            platform = onboarding.platform if onboarding else None
        user = await self.notifier.find_user(email, prefer=platform)
        if user is None:
            return False
        async with self.db.transaction() as session:
            row = await session.get(ReminderSchedule, reminder_id)
            if row is not None and not self._may_act(row, by):
                raise NotYourReminderError()
            if row is None or row.status != "open":
                return False
            old_ref, old_user = row.message_ref, row.platform_user_id
            card = self._card(row, "handed", list(row.missing), nudge=row.nudges, zone=zone)
            card = ReminderCard(**{**card.__dict__, "handed_to": user.id,
                                   "handed_to_platform": user.platform, "handed_to_email": email})  # fmt: skip
            row.platform_user_id, row.recipient_email, row.tz = user.id, email, user.tz
            row.platform = user.platform
            row.message_ref, row.nudges, row.escalated_at = {"locale": user.locale}, 0, None
            row.claim_token, row.sending_nudge = uuid.uuid4().hex, None  # its first nudge: ours
            missing, claim = list(row.missing), row.claim_token
        if was_sent(old_ref) and old_user:
            await self.notifier.update_reminder(old_ref, card, old_ref.get("locale", "en"))
        await self._nudge(row, missing, claim)
        return True


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
