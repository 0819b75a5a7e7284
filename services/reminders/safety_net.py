"""The safety-net sweep: re-read every open reminder's company, in case a callout never came.

Without a healthy company webhook this is how the bot notices a finished invoice setup, every
REMINDER_SWEEP_MINUTES. While the webhook is healthy (registered with every watched field, not
deactivated, and heard from, or synced, within AUTOTASK_WEBHOOK_SILENCE_HOURS) callouts do that job
within seconds, and the sweep stretches to REMINDER_SWEEP_MINUTES_WITH_WEBHOOK. It runs once per
interval across all replicas (a claimed row in ``job_runs``), reading 500 companies a query.
Nudges do not wait for it: due reminders are handled every minute by ``Reminders.sweep``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.reminders.service import RecheckResult, Reminders
from services.store import state
from services.store.db import Database

logger = logging.getLogger(__name__)

JOB = "reminder-safety-net"


@dataclass(frozen=True)
class Health:
    healthy: bool
    reason: str


class SafetyNet:
    def __init__(
        self,
        *,
        db: Database,
        reminders: Callable[[], Reminders | None],
        webhook_name: str | None,
        every: timedelta,
        every_with_webhook: timedelta,
        silence: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db, self.reminders, self.webhook_name = db, reminders, webhook_name
        self.every, self.every_with_webhook, self.silence = every, every_with_webhook, silence
        self.clock = clock
        self._last: timedelta | None = None

    async def health(self) -> Health:
        """Whether callouts can be relied on, from what every replica recorded."""
        if self.webhook_name is None:
            return Health(False, "no company webhook configured")
        async with self.db.transaction() as session:
            row = await state.webhook_state(session, name=self.webhook_name)
        if row is None:
            return Health(False, "the company webhook is not registered yet")
        if row.deactivated_at is not None or row.status == "deactivated":
            return Health(False, "Autotask deactivated the company webhook")
        if row.status != "ready":
            return Health(False, f"the company webhook is {row.status}")
        heard = max(
            (t for t in (row.last_callback_at, row.synced_at) if t is not None), default=None
        )
        if heard is None or heard < self.clock() - self.silence:
            hours = self.silence.total_seconds() / 3600
            return Health(False, f"no callout for over {hours:g} hours")
        return Health(True, "the company webhook is healthy")

    async def interval(self) -> timedelta:
        health = await self.health()
        interval = self.every_with_webhook if health.healthy else self.every
        if interval != self._last:
            self._last = interval
            logger.info("safety-net sweep every %g minutes: %s",
                        interval.total_seconds() / 60, health.reason)  # fmt: skip
        return interval

    async def tick(self) -> RecheckResult | None:
        """Called every minute; sweeps when this interval's turn is ours, else does nothing."""
        reminders = self.reminders()
        if reminders is None:
            return None
        every = await self.interval()
        slack = min(timedelta(seconds=30), every / 2)  # a tick a little early still counts
        async with self.db.transaction() as session:
            ours = await state.claim_job_run(
                session, name=JOB, now=self.clock(), every=every - slack
            )
        if not ours:
            return None
        return await reminders.recheck()
