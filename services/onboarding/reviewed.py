"""Plans a review built, kept per draft so that an Apply soon after it needs no second read.

In memory, per process: an Apply that lands on another replica (or after a restart) just reads
Autotask again. A kept plan is used only for the very answers it was built from, and only while
it is younger than the TTL (60 s): after that the tenant may have moved on.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.onboarding.plan import Plan
from services.onboarding.request import OnboardingRequest


@dataclass(frozen=True)
class Reviewed:
    request: OnboardingRequest
    plan: Plan


@dataclass(frozen=True)
class _Kept:
    fingerprint: str
    at: float
    reviewed: Reviewed


class ReviewedPlans:
    def __init__(
        self, *, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic, size: int = 500
    ) -> None:
        self.ttl, self.clock, self.size = ttl, clock, size
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def keep(self, draft_id: str, answers: Mapping[str, Any], reviewed: Reviewed) -> None:
        self._kept[draft_id] = _Kept(fingerprint(answers), self.clock(), reviewed)
        self._kept.move_to_end(draft_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def take(self, draft_id: str, answers: Mapping[str, Any]) -> Reviewed | None:
        """The plan reviewed for exactly these answers less than ``ttl`` ago (used once)."""
        kept = self._kept.pop(draft_id, None)
        if kept is None or kept.fingerprint != fingerprint(answers):
            return None
        return kept.reviewed if self.clock() - kept.at < self.ttl else None

    def forget(self, draft_id: str) -> None:
        self._kept.pop(draft_id, None)


def fingerprint(answers: Mapping[str, Any]) -> str:
    return json.dumps(answers, sort_keys=True, default=str)
