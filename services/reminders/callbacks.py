"""Autotask's company webhook callouts, received: verified, answered at once, acted on afterwards.

A callout is trusted only when ``X-Hook-Signature`` holds ``sha1=`` and the base64 HMAC-SHA1 of the
raw body bytes under AUTOTASK_WEBHOOK_SECRET, compared in constant time. Anything unsigned, badly
signed, too large or malformed is refused before any database write or Autotask call. A trusted
callout is answered at once (Autotask gives up on an answer after 10 seconds and retries), and then,
in the background, the company's open reminders get the "Check now" treatment: one Autotask read,
then the usual completion path. The payload's field values are never trusted for the verdict; the
company is read again, so repeats and out-of-order deliveries only ever lead to a fresh read.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from services.reminders.service import Reminders
from services.reminders.webhooks import CompanyWebhookRegistry
from services.store import state
from services.store.db import Database

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a company callout is a few hundred bytes; refuse anything far larger
COMPANY_TYPES = frozenset({"company", "companies", "account"})  # EntityType spellings seen
REPEAT_WINDOW = 600.0  # seconds an identical body counts as a repeat
CALLBACK_RECORD_EVERY = timedelta(minutes=1)  # at most one health write a minute per replica
STATE_CHECK_EVERY = 300.0  # seconds between Autotask reads an unsigned notice may cause


@dataclass(frozen=True)
class Verdict:
    status: int
    reason: str


class CallbackReceiver:
    """The two URLs Autotask calls: the callout, and the deactivation notice."""

    def __init__(
        self,
        *,
        secret: SecretStr,
        db: Database,
        registry: CompanyWebhookRegistry,
        reminders: Callable[[], Reminders | None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._key = secret.get_secret_value().encode("utf-8")
        self.db, self.registry, self.reminders, self.clock = db, registry, reminders, clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[int] = set()
        self._again: set[int] = set()
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._recorded_at = 0.0
        self._checked_at = -STATE_CHECK_EVERY

    # ----- the callout ------------------------------------------------------------------------

    def verify(self, body: bytes, signature: str | None) -> bool:
        """Constant-time check of ``X-Hook-Signature`` over the raw body bytes."""
        if not signature:
            return False
        given = signature.strip()
        given = given[5:] if given[:5].lower() == "sha1=" else given
        expected = base64.b64encode(hmac.new(self._key, body, hashlib.sha1).digest())
        return hmac.compare_digest(expected, given.encode("utf-8", "replace"))

    def receive(self, body: bytes, signature: str | None) -> Verdict:
        """Decide at once (no I/O); the readiness check runs after the answer has gone back."""
        if len(body) > MAX_BODY:
            return Verdict(413, "too large")
        if not self.verify(body, signature):
            logger.warning("refused an Autotask webhook callout: %s (%d bytes)",
                           "bad signature" if signature else "unsigned", len(body))  # fmt: skip
            return Verdict(401, "bad signature" if signature else "unsigned")
        payload = _payload(body)
        if payload is None:
            logger.warning("refused a signed Autotask webhook callout: not a callout payload")
            return Verdict(400, "malformed")
        entity = str(_get(payload, "EntityType") or "").lower()
        company_id = _get(payload, "Id")
        if (
            entity not in COMPANY_TYPES
            or isinstance(company_id, bool)
            or not isinstance(company_id, int)
        ):
            logger.info("ignored a signed Autotask callout for %s", entity or "no entity")
            return Verdict(200, "ignored")
        if self._repeat(body):
            logger.info("Autotask repeated a callout for company %s; already handled", company_id)
            return Verdict(200, "repeat")
        logger.info("Autotask webhook: company %s changed (%s by resource %s)", company_id,
                    _get(payload, "Action"), _get(payload, "PersonID"))  # fmt: skip
        self._spawn(self._record_callback())
        self._check(company_id)
        return Verdict(200, "accepted")

    # ----- the deactivation notice ------------------------------------------------------------

    def deactivated(self, body: bytes, signature: str | None) -> Verdict:
        """Autotask deactivated or deleted the webhook. Its notice's format is undocumented: a
        signed one is believed at once; any other only makes us ask Autotask (at most every five
        minutes), so a forged notice can neither switch webhooks off nor cost more than that."""
        if len(body) > MAX_BODY:
            return Verdict(413, "too large")
        if self.verify(body, signature):
            logger.warning("Autotask deactivated the company webhook; the safety-net sweep is "
                           "back to its normal pace. Fix: make PUBLIC_URL reachable from Autotask, "
                           "then run `onboard-bot webhooks sync`")  # fmt: skip
            self._spawn(self._mark_deactivated())
            return Verdict(200, "deactivated")
        now = time.monotonic()
        if now - self._checked_at >= STATE_CHECK_EVERY:
            self._checked_at = now
            logger.warning("an unsigned webhook deactivation notice arrived; asking Autotask")
            self._spawn(self._refresh_state())
        return Verdict(202, "will check")

    # ----- lifecycle --------------------------------------------------------------------------

    async def idle(self) -> None:
        """Wait for the background work of every callout received so far."""
        while busy := [t for t in self._tasks if not t.done()]:
            await asyncio.wait(busy)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ----- background work --------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _check(self, company_id: int) -> None:
        """One readiness check per company at a time; a callout arriving meanwhile gets one more
        after it, since its change may have landed after the first read."""
        if company_id in self._running:
            self._again.add(company_id)
            return
        self._running.add(company_id)
        self._spawn(self._check_company(company_id))

    async def _check_company(self, company_id: int) -> None:
        try:
            while True:
                self._again.discard(company_id)
                reminders = self.reminders()
                if reminders is not None:
                    result = await reminders.recheck([company_id])
                    if result.companies:
                        logger.info("company %s after its callout: %d onboarding(s) complete, "
                                    "%d reminder(s) updated", company_id, result.closed,
                                    result.refreshed)  # fmt: skip
                if company_id not in self._again:
                    return
        except Exception:  # the safety-net sweep will look at this company again
            logger.exception("checking company %s after its callout failed", company_id)
        finally:
            self._running.discard(company_id)

    async def _record_callback(self) -> None:
        now = time.monotonic()
        name = self.registry.name
        if name is None or now - self._recorded_at < CALLBACK_RECORD_EVERY.total_seconds():
            return
        self._recorded_at = now
        try:
            async with self.db.transaction() as session:
                await state.record_callback(
                    session, name=name, now=self.clock(), every=CALLBACK_RECORD_EVERY
                )
                row = await state.webhook_state(session, name=name)
                recorded_off = row is not None and row.status == "deactivated"
        except Exception:
            logger.exception("recording the webhook's last callout failed")
            return
        if recorded_off and now - self._checked_at >= STATE_CHECK_EVERY:
            self._checked_at = now  # it calls out again: someone reactivated it in Autotask?
            await self._refresh_state()

    async def _mark_deactivated(self) -> None:
        name = self.registry.name
        if name is None:
            return
        try:
            async with self.db.transaction() as session:
                await state.record_deactivation(session, name=name, now=self.clock())
        except Exception:
            logger.exception("recording the webhook's deactivation failed")

    async def _refresh_state(self) -> None:
        try:
            report = await self.registry.inspect()
            logger.info("company webhook according to Autotask: %s", report.describe())
        except Exception:
            logger.exception("reading the company webhook from Autotask failed")

    def _repeat(self, body: bytes) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now - REPEAT_WINDOW:
            self._seen.popitem(last=False)
        digest = hashlib.sha256(body).digest()
        if digest in self._seen:
            return True
        self._seen[digest] = now
        if len(self._seen) > 4096:
            self._seen.popitem(last=False)
        return False


def _payload(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _get(payload: dict[str, Any], key: str) -> Any:
    """A payload key, whatever its case (``PersonID`` and ``PersonId`` are both seen)."""
    wanted = key.lower()
    return next((v for k, v in payload.items() if k.lower() == wanted), None)
