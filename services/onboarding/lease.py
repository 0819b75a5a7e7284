"""A run's lease on its onboarding: taken with a new token, renewed on a heartbeat, and checked
before every Autotask write and every step record (fencing).

Why a token and not only the owner: a claim that was lost (the process stalled past its lease
and another replica took the run over) must not come back to life through a later renewal, and
two claims by the same process are different claims. Every renewal is one conditional UPDATE on
the token, so "do I still hold it?" and "hold it longer" are one statement that either matches
or tells the run to stop.

A write starts right after its fence renewed the lease, so it has a whole lease (2 minutes by
default, against Autotask's 30 s timeout) before anyone else may claim the run; a process
frozen longer than that between its fence and its request is the one case left, and that is why
the lease must stay well above the Autotask timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.store import repositories as repo
from services.store.db import Database

logger = logging.getLogger(__name__)
T = TypeVar("T")


class LeaseLostError(Exception):
    """Another process holds this run now (or it was handed back): write and record nothing."""


@dataclass(frozen=True)
class Lease:
    onboarding_id: str
    token: str
    pickup: bool = False  # taken over as an orphan (after a crash or a drained replica)


class LeaseKeeper:
    """One claim of one run: the heartbeat that renews it and the fence every write passes."""

    def __init__(
        self,
        db: Database,
        lease: Lease,
        *,
        duration: timedelta,
        clock: Callable[[], datetime],
        every: float | None = None,
    ) -> None:
        self.db, self.lease, self.duration, self.clock = db, lease, duration, clock
        self.every = every if every is not None else duration.total_seconds() / 3
        self.lost = asyncio.Event()
        self._valid_until = time.monotonic() + duration.total_seconds()
        self._beat: asyncio.Task[None] | None = None

    async def renew(self, session: AsyncSession | None = None) -> None:
        """Renew now, in ``session`` (a step boundary's transaction) or in one of its own.
        Raises ``LeaseLostError`` when the claim no longer holds the run."""
        if self.lost.is_set():
            raise LeaseLostError(self.lease.onboarding_id)
        started = time.monotonic()
        if session is None:
            async with self.db.transaction() as own:
                held = await self._renew(own)
        else:
            held = await self._renew(session)
        if not held:
            self._lose("another process holds it now")
        self._valid_until = started + self.duration.total_seconds()

    async def _renew(self, session: AsyncSession) -> bool:
        return await repo.renew_lease(
            session, onboarding_id=self.lease.onboarding_id, token=self.lease.token,
            now=self.clock(), lease=self.duration,
        )  # fmt: skip

    def _lose(self, why: str) -> None:
        if not self.lost.is_set():
            logger.warning("run lease lost (%s): this process stops writing", why)
            self.lost.set()
        raise LeaseLostError(self.lease.onboarding_id)

    def start(self) -> None:
        self._beat = asyncio.ensure_future(self._heartbeat())

    async def stop(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            await asyncio.gather(self._beat, return_exceptions=True)
            self._beat = None

    async def _heartbeat(self) -> None:
        """Renew every ``every`` seconds. A database that cannot be reached is retried until the
        lease may have run out (then the run stops: someone else may take it from then on)."""
        while not self.lost.is_set():
            await asyncio.sleep(self.every)
            try:
                await self.renew()
            except LeaseLostError:
                return
            except Exception:  # the database: retried at the next beat while the lease lasts
                logger.warning("run lease renewal failed; retrying", exc_info=True)
                if time.monotonic() + self.every >= self._valid_until:
                    try:
                        self._lose("it could not be renewed before it ran out")
                    except LeaseLostError:
                        return

    async def guard(self, work: Awaitable[T]) -> T:
        """``work`` (one step's attempts), cancelled the moment the lease is lost: a back-off
        under way sends nothing more."""
        task = asyncio.ensure_future(work)
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the run itself is cancelled (a shutdown's bound)
            task.cancel()
            raise
        finally:
            lost.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise LeaseLostError(self.lease.onboarding_id)
        return task.result()
