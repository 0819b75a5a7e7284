"""Slack's retries: drop the ones whose first delivery we acknowledged, handle the others.

Slack re-sends a delivery it thinks failed (no 2xx within 3 s) with ``X-Slack-Retry-Num``; Socket
Mode does the same for an envelope left unacknowledged (Bolt turns ``retry_attempt`` into that
header). Dropping every retry loses the request whenever the first delivery really failed (a 500,
a crash, a replica that died); handling every retry repeats work. So each replica remembers, for
``RETENTION`` seconds, which deliveries it answered with a 2xx:

- the key is the Events API's ``event_id`` (what Slack documents for de-duplication), else a
  SHA-256 of the raw body (a command or an interaction is re-sent byte for byte, and its
  ``trigger_id`` makes each body unique);
- a retry whose first delivery is still being handled waits for it (at most ``WAIT``);
- the memory is per replica, not shared: the only deliveries Slack retries are Events API events,
  and the one this app handles (``app_home_opened``) is harmless to repeat; what must never happen
  twice (an Apply) is fenced in the database by the draft's claim whichever replica gets it. A
  shared table would cost a database write on every request before the 3-second ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from handlers.slack.envelope import malformed

logger = logging.getLogger(__name__)

RETENTION = 600.0  # Slack retries within minutes of the first delivery
WAIT = 3.0  # a retry of a delivery still in hand waits this long for its outcome
LIMIT = 50_000  # keys kept at most, oldest dropped first


class Deliveries:
    """The deliveries this replica acknowledged lately, and the ones it is handling now."""

    def __init__(
        self, *, retention: float = RETENTION, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.retention, self.clock = retention, clock
        self._acked: OrderedDict[str, float] = OrderedDict()
        self._pending: dict[str, asyncio.Event] = {}

    @staticmethod
    def key(req: AsyncBoltRequest) -> str:
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        if isinstance(event_id, str) and event_id:
            return f"event:{event_id}"
        return "body:" + hashlib.sha256(req.raw_body.encode()).hexdigest()

    async def acknowledged(self, key: str) -> bool:
        pending = self._pending.get(key)
        if pending is not None:
            with contextlib.suppress(TimeoutError):  # then judged as not acknowledged
                await asyncio.wait_for(pending.wait(), WAIT)
        self._expire()
        return key in self._acked

    def begin(self, key: str) -> asyncio.Event:
        return self._pending.setdefault(key, asyncio.Event())

    def end(self, key: str, event: asyncio.Event, *, acked: bool) -> None:
        if acked:
            self._acked[key] = self.clock()
            self._acked.move_to_end(key)
            while len(self._acked) > LIMIT:
                self._acked.popitem(last=False)
        if self._pending.get(key) is event:
            del self._pending[key]
        event.set()

    def _expire(self) -> None:
        cutoff = self.clock() - self.retention
        while self._acked and next(iter(self._acked.values())) < cutoff:
            self._acked.popitem(last=False)


class SlackApp(AsyncApp):
    """Bolt's app; a payload of the wrong shape is a 400 before Bolt reads it, and a retry of a
    delivery this replica acknowledged is answered 200 and dropped."""

    def __init__(self, *, deliveries: Deliveries | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deliveries = deliveries or Deliveries()
        secret = kwargs.get("signing_secret")
        self.verifier = SignatureVerifier(secret) if secret else None

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        problem = malformed(req.body)
        if problem is not None:
            logger.warning("refused a malformed %s payload (%s)", req.body.get("type"), problem)
            return BoltResponse(status=400, body='{"error": "malformed payload"}',
                                headers={"content-type": "application/json"})  # fmt: skip
        key = self.deliveries.key(req)
        retry = req.headers.get("x-slack-retry-num", [None])[0]
        if retry is not None and self._signed(req) and await self.deliveries.acknowledged(key):
            logger.info("dropping Slack retry %s: its first delivery was acknowledged", retry)
            return BoltResponse(status=200, body="")
        if retry is not None:
            logger.info("handling Slack retry %s: no acknowledged first delivery here", retry)
        pending = self.deliveries.begin(key)
        acked = False
        try:
            response = await super().async_dispatch(req)
            acked = 200 <= response.status < 300
            return response
        finally:
            self.deliveries.end(key, pending, acked=acked)

    def _signed(self, req: AsyncBoltRequest) -> bool:
        """Socket Mode needs no signature; over HTTP only a signed retry is answered here (an
        unsigned one goes on to Bolt, which refuses it)."""
        if req.mode == "socket_mode" or self.verifier is None:
            return True
        headers = {k: v[0] for k, v in req.headers.items() if v}
        return self.verifier.is_valid_request(req.raw_body, headers)
