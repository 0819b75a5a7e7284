"""A run as every front-end sees it: its progress message, the passwords, and the after-run work.

``Runs.run`` applies a stored onboarding through the runner. It opens the progress message with
the presenter registered for the onboarding's platform (or finds the one stored with it), updates
it as steps finish, finishes it with the Autotask link, hands the one-time Client Portal passwords
to the requester, and then does what every front-end needs after a run: forget the company's
cached lists and start the invoice reminders. It needs only the onboarding's id, so a retry from
any front-end, or a process picking up an orphaned run, shows progress in the same message.

``resume_orphans`` is that pickup: at start-up and on a timer every process looks for runs nobody
holds although they should be running (their process died, or a draining replica handed them
back), claims each atomically (a second replica's sweep gets nothing), and runs it as Retry
would (Autotask re-read, re-planned: nothing written twice), telling the requester it continued.
A run interrupted ``max_resumes`` times is not resumed again but shown failed, with Retry: a run
that kills its process each time must not take every replica down in turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from services.autotask.errors import AutotaskError
from services.autotask.zones import company_url
from services.onboarding.actor import BusyError, OnboardingGoneError
from services.onboarding.attempts import Waiting
from services.onboarding.lease import Lease
from services.onboarding.options import OptionSources
from services.onboarding.plan_devices import KIND, is_devices
from services.onboarding.presenter import MessageRef, Presenters, Requester, RunPresenter, RunView
from services.onboarding.runner import AlreadyRunningError, Runner, RunReport, StepView
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import Onboarding

logger = logging.getLogger(__name__)

GAVE_UP = ("The run was interrupted {n} times while this step was under way (the bot stopped); "
           "it is not resumed automatically again. Press Retry to continue.")  # fmt: skip


class InvoiceReminders(Protocol):
    """What runs need from ``services.reminders`` (wired in by ``bot/``, which builds it with
    the notifier of a chat platform that can deliver them)."""

    async def start(self, onboarding_id: str) -> list[int]: ...


class DeviceFollowUpHook(Protocol):
    """What runs need from ``services.devices`` (which imports this package, never the reverse):
    told after every run, it starts a managed onboarding's device follow-up, or records what a
    "devices" onboarding attached."""

    async def after_run(self, report: RunReport, *, first_time: bool) -> None: ...


class Runs:
    def __init__(
        self,
        *,
        runner: Runner,
        db: Database,
        options: OptionSources,
        presenters: Presenters,
        reminders: InvoiceReminders | None = None,
        max_resumes: int = 3,
    ) -> None:
        self.runner, self.db, self.options = runner, db, options
        self.presenters, self.reminders = presenters, reminders
        self.max_resumes = max_resumes
        self.devices: DeviceFollowUpHook | None = None  # set by services.devices when wired
        # The lease keeps other processes out; this keeps a second click in this one out (the
        # lease's owner is the process, so it would let a second run of the same id through).
        self._running: set[str] = set()
        self._resuming: set[asyncio.Task[Any]] = set()

    async def run(
        self, onboarding_id: str, *, fresh: bool, lease: Lease | None = None
    ) -> RunReport:
        """Apply the onboarding; ``fresh`` when it was stored just now (its first run), ``lease``
        when it was claimed already (an orphan picked up). The returned report carries no
        passwords: those went to the requester only."""
        if onboarding_id in self._running:
            raise BusyError()
        self._running.add(onboarding_id)
        try:
            return await self._run(onboarding_id, fresh=fresh, lease=lease)
        finally:
            self._running.discard(onboarding_id)

    # ----- orphans ------------------------------------------------------------------------------

    async def resume_orphans(self) -> list[str]:
        """Claim and resume the runs nobody is applying; returns the ids this process took
        (their runs go on in the background: ``settle()`` waits for them)."""
        now = self.runner.clock()
        planned_before = now - self.runner.lease
        async with self.db.transaction() as session:
            rows = await repo.orphans(session, now=now, planned_before=planned_before)
            found = [(o.id, o.pickups) for o in rows]
        taken: list[str] = []
        for onboarding_id, pickups in found:
            if onboarding_id in self._running:
                continue
            if pickups >= self.max_resumes:
                await quietly(self._give_up(onboarding_id), "show a run that stopped resuming")
                continue
            lease = await self.runner.claim(
                onboarding_id, pickup=True, planned_before=planned_before
            )
            if lease is None:
                continue  # another process's sweep (or a Retry) took it first
            logger.warning("onboarding %s: its run was interrupted; resuming it (resume %d of %d)",
                           onboarding_id, pickups + 1, self.max_resumes)  # fmt: skip
            task = asyncio.ensure_future(
                quietly(self.run(onboarding_id, fresh=False, lease=lease), "resume a run")
            )
            self._resuming.add(task)
            task.add_done_callback(self._resuming.discard)
            taken.append(onboarding_id)
        return taken

    async def settle(self) -> None:
        """Wait for the resumed runs this process started."""
        while self._resuming:
            await asyncio.gather(*list(self._resuming))

    async def _give_up(self, onboarding_id: str) -> None:
        now = self.runner.clock()
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                return
            error = GAVE_UP.format(n=onboarding.pickups)
            if not await repo.give_up_orphan(session, onboarding_id=onboarding_id, now=now,
                                             max_pickups=self.max_resumes, error=error):  # fmt: skip
                return
            await repo.record_event(session, actor=self.runner.owner, action="run_gave_up",
                                    onboarding_id=onboarding_id, detail={"resumes": onboarding.pickups})  # fmt: skip
            meta = dict(onboarding.meta)
            requester = _requester(onboarding)
        logger.warning("onboarding %s: interrupted %d times; shown failed with Retry",
                       onboarding_id, self.max_resumes)  # fmt: skip
        report = await self.runner.report(onboarding_id)
        view = RunView(report.onboarding_id, report.company_id, report.company_name,
                       report.status, report.steps, requester, origin_of(meta),
                       link=await self.company_link(report.company_id))  # fmt: skip
        presenter = self._presenter(onboarding)
        ref: MessageRef = dict(meta.get("progress") or {})
        if not ref:
            ref = await quietly(presenter.open(view), "open the progress message") or {}
        await quietly(presenter.finish(ref, view), "finish the progress message")
        await self._devices_after(report, first_time=False)

    # ----- one run ------------------------------------------------------------------------------

    async def _run(self, onboarding_id: str, *, fresh: bool, lease: Lease | None) -> RunReport:
        async with self.db.transaction() as session:
            onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
            if onboarding is None:
                raise OnboardingGoneError(id=onboarding_id)
            meta = dict(onboarding.meta)
            requester = _requester(onboarding)
            was = onboarding.status
            presenter = self._presenter(onboarding)
        before = await self.runner.report(onboarding_id)
        resumed = lease is not None and lease.pickup
        view = RunView(before.onboarding_id, before.company_id, before.company_name, "applying",
                       before.steps, requester, origin_of(meta), resumed=resumed)  # fmt: skip
        ref: MessageRef = dict(meta.get("progress") or {})
        if not ref:
            ref = await quietly(presenter.open(view), "open the progress message") or {}
            await self._remember(onboarding_id, ref)
        elif resumed:  # the message said "applying" when its process died: it goes on now
            await quietly(presenter.update(ref, view), "update the progress message")
        if resumed:
            await quietly(presenter.resumed(view), "tell the requester the run continued")
        steps: dict[str, StepView] = {s.key: s for s in before.steps}
        shown = view

        async def on_progress(step: StepView) -> None:
            nonlocal shown
            steps[step.key] = step
            shown = replace(view, steps=list(steps.values()))  # a step moved: no longer waiting
            await quietly(presenter.update(ref, shown), "update the progress message")

        async def on_wait(waiting: Waiting) -> None:
            nonlocal shown
            shown = replace(shown, waiting=waiting)
            await quietly(presenter.update(ref, shown), "update the progress message")

        try:
            report = await self.runner.apply(onboarding_id, on_progress=on_progress,
                                             on_wait=on_wait, lease=lease)  # fmt: skip
        except AlreadyRunningError:
            raise BusyError() from None
        except AutotaskError:  # Autotask could not be read before the first step: say so
            now = await self.runner.report(onboarding_id)
            stopped = replace(view, status=now.status, steps=now.steps)
            await quietly(presenter.finish(ref, stopped), "finish the progress message")
            await self._devices_after(now, first_time=False)
            raise
        if report.lease_lost:  # the process that took it over shows the rest in this message
            return report
        secrets, report.secrets = report.secrets, []
        final = replace(view, status=report.status, steps=report.steps, waiting=None,
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
        await self._devices_after(report, first_time=first_time)
        if report.status != "applied" or not report.invoice_missing or not first_time:
            return
        if self.reminders is None:
            logger.info("onboarding %s: no chat platform to remind the billing administrators "
                        "on; the Autotask to-do reminds them", report.onboarding_id)  # fmt: skip
            return
        await quietly(self.reminders.start(report.onboarding_id), "start the invoice reminders")

    def _presenter(self, onboarding: Onboarding) -> RunPresenter:
        """A devices onboarding shows its progress in its device DM (``services.devices``), not
        in a progress message of its own."""
        if is_devices(onboarding.request):
            return self.presenters.of("")  # no front-end registers "": the silent presenter
        return self.presenters.of(onboarding.platform)

    async def _devices_after(self, report: RunReport, *, first_time: bool) -> None:
        """Only what concerns the follow-up: a devices run's end, or an onboarding applied for
        the first time (whose follow-up may start); nothing else waits on it."""
        concerned = report.kind == KIND or (report.status == "applied" and first_time)
        if self.devices is not None and concerned:
            await quietly(self.devices.after_run(report, first_time=first_time),
                          "follow up the devices")  # fmt: skip

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


def _requester(onboarding: Onboarding) -> Requester:
    return Requester(onboarding.platform, onboarding.requested_by,
                     str(onboarding.meta.get("locale") or "en"))  # fmt: skip


async def quietly(work: Awaitable[Any], doing: str) -> Any:
    """Chat calls and reminders must never stop (or undo) a run: log and go on."""
    try:
        return await work
    except Exception:
        logger.exception("could not %s", doing)
        return None
