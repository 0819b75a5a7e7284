"""How a run shows itself on a chat platform or a terminal: the protocol each front-end fills in.

The onboarding service opens a progress message when a run starts and stores the reference the
presenter returns with the onboarding, so any process (a retry from App Home, a replica picking up
an orphaned run) can update the same message later through the presenter registered for the
onboarding's platform. One-time Client Portal passwords go through ``deliver_secrets`` to the
requester named in the view, never to whoever pressed a button.

What a progress message says is ``RunView.state``, one of ``STATES``: applying (step k of n,
``position``), resumed after an interruption, waiting for Autotask (``waiting``: why, Autotask's
words, when it tries again), applied, failed (the failed step with Autotask's text, and Retry),
cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from services.onboarding.attempts import Waiting
from services.onboarding.runner import StepView as StepView  # what a presenter shows of a step
from services.onboarding.steps import PortalSecret

logger = logging.getLogger(__name__)

MessageRef = dict[str, Any]  # JSON the presenter needs to find its message again
State = Literal["planned", "applying", "resumed", "waiting", "applied", "failed", "cancelled"]
STATES: tuple[State, ...] = (
    "planned", "applying", "resumed", "waiting", "applied", "failed", "cancelled"
)  # fmt: skip


@dataclass(frozen=True)
class Requester:
    platform: str
    user_id: str
    locale: str = "en"


@dataclass(frozen=True)
class RunView:
    """Everything a progress message shows; rendered in the requester's language."""

    onboarding_id: str
    company_id: int
    company_name: str
    status: str  # planned, applying, applied, failed, cancelled
    steps: list[StepView]
    requester: Requester
    origin: Mapping[str, Any] = field(default_factory=dict)  # where it was asked (a channel...)
    link: str | None = None  # the company in Autotask, once the run has ended
    invoice_missing: list[str] = field(default_factory=list)
    resumed: bool = False  # this run continued on its own after an interruption
    waiting: Waiting | None = None  # set while a step waits for Autotask to try again

    @property
    def failed(self) -> StepView | None:
        return next((s for s in self.steps if s.state == "failed"), None)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.state in ("done", "skipped"))

    @property
    def state(self) -> State:
        """What the message says now. While applying: waiting beats resumed beats applying."""
        if self.status != "applying":
            return _ended(self.status)
        if self.waiting is not None:
            return "waiting"
        return "resumed" if self.resumed else "applying"

    @property
    def position(self) -> tuple[int, int]:
        """(k, n): the step under way is the k-th of n (k = n + 1 never: capped at n)."""
        total = len(self.steps)
        running = next((i for i, s in enumerate(self.steps, 1) if s.state == "running"), None)
        return (running or min(self.done + 1, total), total)

    @property
    def current(self) -> StepView | None:
        """The step under way (or waiting for Autotask), else the next one to start."""
        running = next((s for s in self.steps if s.state == "running"), None)
        return running or next((s for s in self.steps if s.state == "pending"), None)


def _ended(status: str) -> State:
    if status == "applied":
        return "applied"
    if status == "failed":
        return "failed"
    return "cancelled" if status == "cancelled" else "planned"


class RunPresenter(Protocol):
    async def open(self, run: RunView) -> MessageRef:
        """Post the progress message where ``run.origin`` says (or privately to the requester)
        and return how to find it again."""
        ...

    async def update(self, ref: MessageRef, run: RunView) -> None:
        """A step changed state; presenters may throttle (the final ``finish`` is never)."""
        ...

    async def finish(self, ref: MessageRef, run: RunView) -> None:
        """The run ended (applied, failed with Retry, cancelled): show it, with ``run.link``."""
        ...

    async def deliver_secrets(self, run: RunView, secrets: Sequence[PortalSecret]) -> None:
        """Hand the one-time passwords to ``run.requester`` privately; never log them."""
        ...

    async def resumed(self, run: RunView) -> None:
        """Tell ``run.requester`` privately that their onboarding was interrupted (the bot
        stopped mid-run) and has continued on its own; the progress message says it too."""
        ...


class SilentPresenter:
    """For platforms with no front-end in this process: the run goes on, its state is stored."""

    async def open(self, run: RunView) -> MessageRef:
        return {}

    async def update(self, ref: MessageRef, run: RunView) -> None:
        return None

    async def finish(self, ref: MessageRef, run: RunView) -> None:
        logger.info("onboarding %s %s (no %s front-end in this process to show it)",
                    run.onboarding_id, run.status, run.requester.platform)  # fmt: skip

    async def deliver_secrets(self, run: RunView, secrets: Sequence[PortalSecret]) -> None:
        if secrets:
            logger.warning("onboarding %s: %d Client Portal password(s) could not be delivered to "
                           "%s (no %s front-end in this process); reset them in Autotask",
                           run.onboarding_id, len(secrets), run.requester.user_id,
                           run.requester.platform)  # fmt: skip

    async def resumed(self, run: RunView) -> None:
        logger.info("onboarding %s continued after an interruption (no %s front-end in this "
                    "process to tell %s)", run.onboarding_id, run.requester.platform,
                    run.requester.user_id)  # fmt: skip


class Presenters:
    """The presenter of each platform, registered by ``bot/`` when it builds that front-end."""

    def __init__(self) -> None:
        self._by_platform: dict[str, RunPresenter] = {}
        self._silent = SilentPresenter()

    def register(self, platform: str, presenter: RunPresenter) -> None:
        self._by_platform[platform] = presenter

    def of(self, platform: str) -> RunPresenter:
        return self._by_platform.get(platform, self._silent)


Show = Callable[[MessageRef, RunView], Awaitable[None]]


class Throttle:
    """At most one update of a progress message per ``min_interval``; the end is always shown.

    Only step-by-step progress is held back: a change of state (waiting for Autotask, resumed,
    applying again) is shown at once, because a wait can be shorter than the interval and is what
    the reader most needs to see. A held-back update is shown once the interval has passed
    (unless a newer one was shown first). Each chat presenter keys it by its message's id and
    passes the function that redraws the message.
    """

    def __init__(self, min_interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.min_interval, self.clock = min_interval, clock
        self._last: dict[str, float] = {}  # message id -> when it was last shown
        self._state: dict[str, State] = {}  # message id -> the state it last showed
        self._pending: dict[str, tuple[MessageRef, RunView]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}

    def opened(self, key: str) -> None:
        self._last[key] = self.clock()
        self._state[key] = "applying"

    async def update(self, key: str, ref: MessageRef, run: RunView, show: Show) -> None:
        wait = self.min_interval - (self.clock() - self._last.get(key, float("-inf")))
        if wait <= 0 or run.state != self._state.get(key):
            await self._show(key, ref, run, show)
            return
        self._pending[key] = (ref, run)
        if key not in self._timers:
            self._timers[key] = asyncio.ensure_future(self._later(key, wait, show))

    async def finish(self, key: str, ref: MessageRef, run: RunView, show: Show) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._pending.pop(key, None)
        await self._show(key, ref, run, show)
        self._last.pop(key, None)
        self._state.pop(key, None)

    async def _later(self, key: str, wait: float, show: Show) -> None:
        try:
            await asyncio.sleep(wait)
            pending = self._pending.pop(key, None)
            if pending is not None:
                await self._show(key, *pending, show)
        except Exception as exc:  # a later update or the end shows the message again
            logger.warning("progress message %s not updated: %s", key, type(exc).__name__)
        finally:
            self._timers.pop(key, None)

    async def _show(self, key: str, ref: MessageRef, run: RunView, show: Show) -> None:
        self._last[key] = self.clock()
        self._state[key] = run.state
        self._pending.pop(key, None)  # this is newer than anything held back
        await show(ref, run)
