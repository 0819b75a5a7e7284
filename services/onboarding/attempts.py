"""One step's attempts: transient Autotask failures are waited out, ambiguous writes looked up.

Autotask has no idempotency key, so after a create whose answer never came (a 5xx with no
business-rule text, a timeout, a dropped connection) nobody knows whether it landed. The step then
looks its own record up (``Step.landed``: one query on the step's entity, where re-planning would
re-read the whole company, about 20 calls) and, if it is there, counts as done; if not, it is sent
again after a bounded back-off. A refusal with Autotask's reason (a business rule, permissions,
credentials) ends the step at once, and so does an exhausted budget: the run then shows Retry.

    failure                                  nothing landed?      then
    thread limit, 429 (RateLimitedError)     certain              wait, send again
    5xx without a rule's text, timeout,      unknown              wait, look up, send if absent
      lost connection (ServerError,
      TransportError)
    anything else (BusinessRuleError...)     -                    stop: failed, with Retry
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.autotask.errors import (
    AutotaskError,
    Failure,
    RateLimitedError,
    ServerError,
    TransportError,
    ZoneDiscoveryError,
)
from services.autotask.limits import RetryPolicy
from services.onboarding.steps import RunContext, Step, Write

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    """The run is waiting for Autotask: why (a ``Failure`` and Autotask's own words) and when
    it tries again."""

    failure: str
    said: str
    until: datetime
    step: str = ""


Wait = Callable[[Waiting], Awaitable[None]]
Pause = Callable[[float], Awaitable[None]]


class Outcome(StrEnum):
    REJECTED = "rejected"  # refused before it ran: sending again is safe
    UNKNOWN = "unknown"  # may have landed: look it up first
    REFUSED = "refused"  # Autotask said no, and why: a person decides


def outcome_of(error: AutotaskError) -> Outcome:
    if isinstance(error, RateLimitedError):
        return Outcome.REJECTED
    if isinstance(error, ServerError | TransportError):
        return Outcome.UNKNOWN
    if isinstance(error, ZoneDiscoveryError) and error.failure == Failure.UNREACHABLE:
        return Outcome.REJECTED  # no write was sent: the zone was not even found
    return Outcome.REFUSED


class RunHooks:
    """The Autotask client's hooks for a run's writes: the lease fence before every attempt
    (the client's own retries included), and its back-offs shown as "waiting for Autotask"."""

    def __init__(
        self, fence: Callable[[], Awaitable[None]], on_wait: Wait | None,
        clock: Callable[[], datetime],
    ) -> None:  # fmt: skip
        self.fence, self.on_wait, self.clock = fence, on_wait, clock
        self.step = ""

    async def before_send(self) -> None:
        await self.fence()

    async def waiting(self, error: AutotaskError, delay: float) -> None:
        await self.show(error, delay)

    async def show(self, error: AutotaskError, delay: float) -> None:
        if self.on_wait is not None:
            until = self.clock() + timedelta(seconds=delay)
            await self.on_wait(Waiting(str(error.failure), error.said, until, self.step))


class StepAttempts:
    """Applies one step with a bounded number of retries (``retries`` more after the first)."""

    def __init__(self, *, retries: int, policy: RetryPolicy, pause: Pause, hooks: RunHooks) -> None:
        self.retries, self.policy, self.pause, self.hooks = retries, policy, pause, hooks

    async def run(self, step: Step, ctx: RunContext) -> list[Write]:
        """The step's writes, those found landed after an unknown outcome included; raises the
        last ``AutotaskError`` on a refusal or when the budget is spent."""
        found: list[Write] = []
        uncertain = False
        for attempt in range(self.retries + 1):
            try:
                if uncertain:
                    landed = await step.landed(ctx)
                    uncertain = False
                    if landed is not None:
                        found += landed.writes
                        if landed.complete:
                            logger.info("the write's answer was lost, but it landed: step done")
                            return found
                return found + await step.apply(ctx)
            except AutotaskError as exc:
                outcome = outcome_of(exc)
                if outcome is Outcome.REFUSED or attempt == self.retries:
                    raise
                uncertain = uncertain or outcome is Outcome.UNKNOWN
                delay = self.policy.delay(attempt, getattr(exc, "retry_after", None))
                logger.warning("step attempt %d of %d: %s (%s); next in %.1f s", attempt + 1,
                               self.retries + 1, exc, outcome, delay)  # fmt: skip
                await self.hooks.show(exc, delay)
                await self.pause(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")
