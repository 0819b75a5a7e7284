"""APScheduler jobs of the process. Jobs are thin: each calls one service function."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.container import Container

logger = logging.getLogger(__name__)


async def refresh_reference(container: Container) -> None:
    """Reload picklists, lookups and the company list, so form pages and typeahead hit a warm cache;
    then check the playbooks against them (a playbook that no longer matches stops being offered)."""
    if container.drain.draining:
        return  # housekeeping, not accepted work: a shutdown cancels it rather than waits
    try:
        await container.reference.refresh_all()
        await container.options.companies()
        await container.playbooks.refresh()
    except Exception:
        logger.exception("refreshing Autotask reference data failed; serving the cached lists")


class _Swept(Protocol):
    claimed: int


async def _sweep(container: Container, name: str, sweep: Callable[[], Awaitable[_Swept]]) -> None:
    """One sweep of claimed rows; not while draining, and one under way finishes before the
    process exits. The rows' claims, not the scheduler, make each item happen once."""
    if container.drain.draining:
        return
    with container.drain.work():
        try:
            result = await sweep()
            if result.claimed:
                logger.info("%s sweep: %s", name, result)
        except Exception:
            logger.exception("%s sweep failed; the next one retries", name)


async def sweep_reminders(container: Container) -> None:
    """Due invoice-setup reminders."""
    if container.reminders is not None:
        await _sweep(container, "reminder", container.reminders.sweep)


async def sweep_devices(container: Container) -> None:
    """Devices that arrived after a managed onboarding."""
    if container.devices is not None:
        await _sweep(container, "device", container.devices.sweep)


async def resume_orphans(container: Container) -> None:
    """Interrupted runs (their process died, or a draining replica handed them back) are
    claimed by whichever replica finds them first and resumed in the background."""
    if container.drain.draining:
        return
    with container.drain.work():  # the runs it resumes are waited for at shutdown, step by step
        try:
            taken = await container.onboarding.resume_orphans()
            if taken:
                logger.info("resuming %d interrupted run(s): %s", len(taken), ", ".join(taken))
        except Exception:
            logger.exception("looking for interrupted runs failed; the next sweep retries")


async def safety_net(container: Container) -> None:
    """Re-read every open reminder's company when the (stretchable) interval says so."""
    if container.safety_net is None:
        return
    try:
        result = await container.safety_net.tick()
        if result is not None and result.companies:
            logger.info("safety-net sweep: %s", result)
    except Exception:
        logger.exception("safety-net sweep failed; the next one retries")


async def sync_webhook(container: Container) -> None:
    """Register or repair the company webhook; failures leave the sweep at its normal pace."""
    if container.webhooks is None or container.webhooks.config is None:
        return
    try:
        report = await container.webhooks.sync()
    except Exception as exc:
        logger.error("Autotask company webhook: sync failed (%s); the safety-net sweep keeps its "
                     "normal pace. Retry with `onboard-bot webhooks sync`", exc)  # fmt: skip
        return
    level = logging.INFO if report.state == "ready" else logging.WARNING
    fix = f" -> {report.fix}" if report.fix else ""
    logger.log(level, "Autotask company webhook: %s%s", report.describe(), fix)


def start_scheduler(container: Container, *, refresh_minutes: float = 10.0) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        refresh_reference,
        "interval",
        minutes=refresh_minutes,
        args=[container],
        id="reference-refresh",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        sweep_reminders,
        "interval",
        minutes=1,
        args=[container],
        id="reminder-sweep",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        sweep_devices,
        "interval",
        minutes=min(container.settings.device_sweep_minutes, 5.0),  # each follow-up's next_at
        args=[container],  # says when it is due; this only looks for due ones
        id="device-sweep",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        resume_orphans,
        "interval",
        seconds=container.settings.orphan_sweep_seconds,
        next_run_time=datetime.now(UTC),  # at start-up too: a restart picks its runs up
        args=[container],
        id="orphan-runs",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        safety_net,
        "interval",
        minutes=1,  # it decides itself whether its stretchable interval has passed
        args=[container],
        id="reminder-safety-net",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.start()
    return scheduler
