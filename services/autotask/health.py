"""Whether Autotask can be reached, judged from the calls the client makes anyway.

Readiness probes arrive every few seconds from every load balancer; asking Autotask each time
would spend the tenant's hourly budget on probes. The client records the outcome of each exchange
here instead, and ``/readyz`` reads it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.autotask.errors import AutotaskError, Failure

logger = logging.getLogger(__name__)

# What makes a replica useless until it changes: no answer from Autotask (network, timeouts, a
# gateway's bare 5xx), or credentials Autotask refuses. A refusal in Autotask's own words, a
# permission or a busy answer means Autotask is there. The errors' own ``failure`` decides, as it
# does for what front-ends tell the user.
_UNUSABLE = (Failure.UNREACHABLE, Failure.CREDENTIALS)


@dataclass(frozen=True)
class Verdict:
    reachable: bool
    detail: str = ""


class Reachability:
    """Unreachable after ``threshold`` failed exchanges in a row with no success since.

    One timeout or one opaque 500 does not take a replica out of the load balancer; three in a
    row do. Until the first exchange, Autotask counts as reachable: a replica should not be kept
    out because it has had no reason to call yet.
    """

    def __init__(self, *, threshold: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self._clock = clock
        self.failures = 0
        self.last_error = ""
        self.last_exchange: float | None = None

    def succeeded(self) -> None:
        if self.failures >= self.threshold:
            logger.info("Autotask reachable again")
        self.failures = 0
        self.last_error = ""
        self.last_exchange = self._clock()

    def failed(self, error: AutotaskError) -> None:
        if error.failure not in _UNUSABLE:
            self.succeeded()
            return
        self.failures += 1
        self.last_error = type(error).__name__
        self.last_exchange = self._clock()
        if self.failures == self.threshold:
            logger.warning("Autotask unreachable: %s", self.verdict().detail)

    def verdict(self) -> Verdict:
        if self.failures < self.threshold:
            return Verdict(True)
        return Verdict(False, f"{self.last_error} ({self.failures} failed calls in a row)")

    def idle_for(self) -> float:
        """Seconds since the last exchange (infinite before the first)."""
        if self.last_exchange is None:
            return float("inf")
        return self._clock() - self.last_exchange
