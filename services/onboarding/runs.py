"""A run as every front-end sees it: its progress message, the passwords, and the after-run work.

``Runs.run`` applies a stored onboarding through the runner. It opens the progress message with
the presenter registered for the onboarding's platform (or finds the one stored with it), updates
it as steps finish, finishes it with the Autotask link, hands the one-time Client Portal passwords
to the requester, and then does what every front-end needs after a run: forget the company's
cached lists and start the invoice reminders. It needs only the onboarding's id, so a retry from
any front-end, or a process picking up an orphaned run, shows progress in the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from services.autotask.errors import AutotaskError
from services.autotask.zones import company_url
from services.onboarding.actor import BusyError, OnboardingGoneError
from services.onboarding.options import OptionSources
from services.onboarding.presenter import MessageRef, Presenters, Requester, RunView
from services.onboarding.runner import AlreadyRunningError, Runner, RunReport, StepView
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import Onboarding

logger = logging.getLogger(__name__)


class InvoiceReminders(Protocol):
    """What runs need from ``services.reminders`` (wired in by ``bot/``, which builds it with
    the notifier of a chat platform that can deliver them)."""

    async def start(self, onboarding_id: str) -> list[int]: ...


class Runs:
    def __init__(
        self,
        *,
        runner: Runner,
        db: Database,
        options: OptionSources,
        presenters: Presenters,
        reminders: InvoiceReminders | None = None,
    ) -> None:
        self.runner, self.db, self.options = runner, db, options
        self.presenters, self.reminders = presenters, reminders
        # The lease keeps other processes out; this keeps a second click in this one out (the
        # lease's owner is the process, so it would let a second run of the same id through).
        self._running: set[str] = set()

    async def run(self, onboarding_id: str, *, fresh: bool) -> RunReport:
        """Apply the onboarding; ``fresh`` when it was stored just now (its first run). The
        returned report carries no passwords: those went to the requester only."""
        if onboarding_id in self._running:
            raise BusyError()
        self._running.add(onboarding_id)
        try:
            return await self._run(onboarding_id, fresh=fresh)
        finally:
            self._running.discard(onboarding_id)

    async def _run(self, onboarding_id: str, *, fresh: bool) -> RunReport:
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                raise OnboardingGoneError(id=onboarding_id)
            meta = dict(onboarding.meta)
            requester = Requester(onboarding.platform, onboarding.requested_by,
                                  str(meta.get("locale") or "en"))  # fmt: skip
            was = onboarding.status
        presenter = self.presenters.of(requester.platform)
        before = await self.runner.report(onboarding_id)
        view = RunView(before.onboarding_id, before.company_id, before.company_name, "applying",
                       before.steps, requester, origin_of(meta))  # fmt: skip
        ref: MessageRef = dict(meta.get("progress") or {})
        if not ref:
            ref = await quietly(presenter.open(view), "open the progress message") or {}
            await self._remember(onboarding_id, ref)
        steps: dict[str, StepView] = {s.key: s for s in before.steps}

        async def on_progress(step: StepView) -> None:
            steps[step.key] = step
            current = replace(view, steps=list(steps.values()))
            await quietly(presenter.update(ref, current), "update the progress message")

        try:
            report = await self.runner.apply(onboarding_id, on_progress=on_progress)
        except AlreadyRunningError:
            raise BusyError() from None
        except AutotaskError:  # Autotask could not be read before the first step: say so
            now = await self.runner.report(onboarding_id)
            stopped = replace(view, status=now.status, steps=now.steps)
            await quietly(presenter.finish(ref, stopped), "finish the progress message")
            raise
        secrets, report.secrets = report.secrets, []
        final = replace(view, status=report.status, steps=report.steps,
                        link=await self.company_link(report.company_id),
                        invoice_missing=report.invoice_missing)  # fmt: skip
        await quietly(presenter.finish(ref, final), "finish the progress message")
        await quietly(presenter.deliver_secrets(final, secrets), "deliver the portal passwords")
        await self.after_run(report, first_time=fresh or was != "applied")
        return report

    async def after_run(self, report: RunReport, *, first_time: bool) -> None:
        """The company's cached lists changed; the billing administrators hear about an
        incomplete invoice setup (once per onboarding, not again on a re-run)."""
        self.options.forget_company(report.company_id)
        if report.status != "applied" or not report.invoice_missing or not first_time:
            return
        if self.reminders is None:
            logger.info("onboarding %s: no chat platform to remind the billing administrators "
                        "on; the Autotask to-do reminds them", report.onboarding_id)  # fmt: skip
            return
        await quietly(self.reminders.start(report.onboarding_id), "start the invoice reminders")

    async def company_link(self, company_id: int) -> str | None:
        try:
            return company_url(await self.runner.client.zone(), company_id)
        except Exception:  # a link is a nicety: never fail a run's report for it
            logger.warning("no Autotask link for company %s", company_id, exc_info=True)
            return None

    async def _remember(self, onboarding_id: str, ref: MessageRef) -> None:
        async with self.db.transaction() as session:
            onboarding = await session.get(Onboarding, onboarding_id)
            if onboarding is not None:
                onboarding.meta = {**onboarding.meta, "progress": ref}


def origin_of(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Where the run was asked. Onboardings stored before the service recorded an ``origin``
    kept their front-end's own keys (a channel, the progress message) at the top of ``meta``:
    those are handed to its presenter as the origin, so it can find its message again."""
    if "origin" in meta:
        return dict(meta["origin"] or {})
    return {k: v for k, v in meta.items() if k not in ("progress", "locale", "requester_email")}


async def quietly(work: Awaitable[Any], doing: str) -> Any:
    """Chat calls and reminders must never stop (or undo) a run: log and go on."""
    try:
        return await work
    except Exception:
        logger.exception("could not %s", doing)
        return None
