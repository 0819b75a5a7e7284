"""How a run shows itself on a chat platform or a terminal: the protocol each front-end fills in.

The onboarding service opens a progress message when a run starts and stores the reference the
presenter returns with the onboarding, so any process (a retry from App Home, a replica picking up
an orphaned run) can update the same message later through the presenter registered for the
onboarding's platform. One-time Client Portal passwords go through ``deliver_secrets`` to the
requester named in the view, never to whoever pressed a button.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.onboarding.runner import StepView as StepView  # what a presenter shows of a step
from services.onboarding.steps import PortalSecret

logger = logging.getLogger(__name__)

MessageRef = dict[str, Any]  # JSON the presenter needs to find its message again


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

    @property
    def failed(self) -> StepView | None:
        return next((s for s in self.steps if s.state == "failed"), None)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.state in ("done", "skipped"))


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


class Presenters:
    """The presenter of each platform, registered by ``bot/`` when it builds that front-end."""

    def __init__(self) -> None:
        self._by_platform: dict[str, RunPresenter] = {}
        self._silent = SilentPresenter()

    def register(self, platform: str, presenter: RunPresenter) -> None:
        self._by_platform[platform] = presenter

    def of(self, platform: str) -> RunPresenter:
        return self._by_platform.get(platform, self._silent)
