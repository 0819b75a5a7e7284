"""``onboard-bot``: run | sandbox | migrate | doctor | onboard | webhooks sync."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable
from pathlib import Path

import click
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import ValidationError
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot import __version__
from bot.container import Container, build
from bot.doctor import Check, render, run_checks
from bot.logs import configure
from bot.playbooks import list_playbooks
from bot.sandbox_server import create_sandbox_app
from bot.scheduler import refresh_reference, start_scheduler, sync_webhook
from bot.server import create_app
from bot.settings import Settings
from handlers.console import ConsolePresenter, Prompter, console_presenter, resume, run_answers_file
from handlers.console_devices import review_devices
from services.autotask.errors import AutotaskError
from services.autotask.sandbox import (
    SANDBOX_INTEGRATION_CODE,
    SANDBOX_SECRET,
    SANDBOX_USERNAME,
    SandboxTransport,
    open_tenant,
)
from services.i18n import Translator
from services.onboarding.actor import LOCAL
from services.reminders.webhooks import CALLBACK_PATH, PERMISSION_FIX, WebhookReport
from services.store.engine import describe
from services.store.migrate import upgrade

logger = logging.getLogger(__name__)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        ]
        raise click.ClickException("the configuration is invalid:\n" + "\n".join(lines)) from None


def startup_lines(settings: Settings) -> list[str]:
    """What the operator must know first: where writes go and where state lives."""
    lines = [f"onboard-bot {__version__}"]
    if settings.autotask_mode == "sandbox":
        where = settings.sandbox_state_file or "memory only"
        lines.append(
            f"Autotask: built-in SANDBOX, no AUTOTASK_* credentials set (tenant state: {where}). "
            "Nothing is written to a real Autotask."
        )
    else:
        lines.append(f"Autotask: live tenant as {settings.autotask_username}")
    kind = "local SQLite file" if settings.database_url.startswith("sqlite") else "database"
    lines.append(f"Database: {describe(settings.database_url)} ({kind})")
    if settings.slack_mode == "off":
        lines.append("Slack: not configured (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")
    else:
        lines.append(f"Slack: {settings.slack_mode} mode")
    lines.append(_teams_line(settings))
    return lines


def _teams_line(settings: Settings) -> str:
    """Whether anything checks who calls /api/messages (bot.teams is imported only to serve)."""
    if settings.teams_mode == "authenticated":
        return (
            f"Teams: app {settings.teams_app_id} on POST /api/messages; every request must carry "
            "a valid Bot Framework token"
        )
    if settings.teams_mode == "anonymous":
        return (
            "Teams: ANONYMOUS local mode on POST /api/messages (no TEAMS_* credentials): unsigned "
            "activities are accepted only when their serviceUrl is on this machine"
        )
    return "Teams: not configured (set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID)"


def _webhook_line(settings: Settings) -> str:
    if settings.webhooks_enabled:
        return (
            f"Autotask webhook: {settings.public_url}{CALLBACK_PATH}, registering now (the "
            f"safety-net sweep runs every {settings.reminder_sweep_minutes_with_webhook:g} min "
            f"while it is healthy, else every {settings.reminder_sweep_minutes:g})"
        )
    return (
        "Autotask webhook: off (set PUBLIC_URL and AUTOTASK_WEBHOOK_SECRET); finished invoice "
        f"setups are noticed by the safety-net sweep every {settings.reminder_sweep_minutes:g} min"
    )


def _logging(settings: Settings, *, terminal: bool = False) -> None:
    """The process's log handler. A terminal session logs warnings only unless ``LOG_LEVEL``
    is set, so log lines do not interleave with its prompts and reports."""
    quiet = terminal and "log_level" not in settings.model_fields_set
    sandbox = (
        [SANDBOX_SECRET, SANDBOX_INTEGRATION_CODE] if settings.autotask_mode == "sandbox" else []
    )
    configure(settings, secrets=sandbox, level=logging.WARNING if quiet else None)


def _say(settings: Settings, line: str) -> None:
    """Start-up lines: plain for a terminal, log events when the log is JSON (one format)."""
    if settings.log_format == "json":
        logger.info(line)
    else:
        click.echo(line)


def _locale(lang: str | None) -> str:
    return lang or os.environ.get("LC_ALL") or os.environ.get("LANG") or "en"


def _terminal(container: Container, t: Translator | None = None) -> ConsolePresenter:
    """The terminal's run presenter, registered for the onboardings it starts; it prints a
    line as each run moves on (step k of n, waiting for Autotask, resumed...)."""
    presenter = console_presenter(echo=click.echo, t=t)
    container.presenters.register(LOCAL, presenter)
    return presenter


def _prompter(container: Container, lang: str | None) -> Prompter:
    t = Translator(_locale(lang))
    return Prompter(service=container.onboarding, presenter=_terminal(container, t), t=t,
                    echo=click.echo)  # fmt: skip


@click.group()
def main() -> None:
    """Onboard a newly won MSP client into Autotask PSA."""


@main.command()
@click.option("--lang", default=None, help="Language of the terminal front-end (en, es).")
def run(lang: str | None) -> None:
    """Start the bot (sandbox and SQLite when no credentials are set)."""
    settings = load_settings()
    _logging(settings)
    for line in startup_lines(settings):
        _say(settings, line)
    asyncio.run(_serve(settings, lang))


async def _serve(settings: Settings, lang: str | None) -> None:
    await upgrade(settings.database_url)
    async with build(settings) as container:
        container.drain.install(asyncio.get_running_loop())
        stop = _stop_on_signals()
        runner = web.AppRunner(create_app(container), shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        routes = "GET /healthz, /readyz" + (
            ", POST /slack/events" if settings.slack_mode == "http" else ""
        )
        routes += ", POST /api/messages" if settings.teams_mode != "off" else ""
        port = runner.addresses[0][1] if runner.addresses else settings.port  # PORT=0: the OS's
        if container.callbacks is not None:
            routes += f", POST {CALLBACK_PATH}[/deactivated]"
        _say(settings, f"HTTP: listening on http://{settings.host}:{port} ({routes})")
        _say(settings, _webhook_line(settings))
        scheduler = start_scheduler(container)
        warm = asyncio.ensure_future(
            refresh_reference(container)
        )  # typeahead starts from a warm cache
        # after the server listens, so that Autotask can reach the URL it is given
        webhook = asyncio.ensure_future(sync_webhook(container))
        socket = await _socket_mode(container) if settings.slack_mode == "socket" else None
        try:
            if settings.slack_mode == "off" and sys.stdin.isatty():
                _say(settings, "Local mode: starting the terminal front-end (Ctrl+C to stop).")
                await _until_stopped(_prompter(container, lang).run(), stop)
            else:
                if settings.slack_mode == "off":
                    _say(
                        settings,
                        "Local mode, no terminal: use `onboard-bot onboard --answers FILE`.",
                    )
                await stop.wait()
        finally:
            warm.cancel()
            webhook.cancel()
            await _drain(container, runner, scheduler, socket)


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM (orchestrators) and SIGINT (Ctrl+C) both start a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _until_stopped(work: Awaitable[object], stop: asyncio.Event) -> None:
    task, stopped = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, stopped):
        pending.cancel()


async def _drain(
    container: Container,
    runner: web.AppRunner,
    scheduler: AsyncIOScheduler,
    socket: AsyncSocketModeHandler | None,
) -> None:
    """Stop taking work, let accepted requests and each run's current step finish (at most
    ``SHUTDOWN_TIMEOUT``), hand every run lease back, then close."""
    timeout = container.settings.shutdown_timeout
    logger.info("shutting down: draining for at most %.0f s (%d in progress)", timeout,
                container.drain.busy)  # fmt: skip
    container.drain.start()  # /readyz says 503; new Slack requests get 503
    container.runner.draining = True  # runs stop before their next step
    if socket is not None:
        await socket.close_async()
    scheduler.shutdown(wait=False)
    if not await container.drain.wait(timeout):
        cut = await container.drain.cancel_rest()
        logger.warning("shutdown: cancelled after %.0f s: %s", timeout, ", ".join(cut) or "-")
    released = await container.runner.release_leases()
    await runner.cleanup()
    logger.info("stopped (%d run lease(s) still held were handed back)", released)


async def _socket_mode(container: Container) -> AsyncSocketModeHandler:
    from bot.slack import SocketModeHandler, build_app

    assert container.settings.slack_app_token is not None
    token = container.settings.slack_app_token.get_secret_value()
    handler: AsyncSocketModeHandler = SocketModeHandler(
        build_app(container), token, container.drain
    )
    await handler.connect_async()
    _say(container.settings, "Slack: connected in Socket Mode")
    return handler


@main.command()
@click.option("--port", default=8081, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--state", type=click.Path(path_type=Path), default=None,
              help="Persist the tenant to this JSON file (default: in memory, fresh seed).")  # fmt: skip
@click.option("--latency", default=0.0, show_default=True, envvar="SANDBOX_LATENCY",
              help="Seconds added to every call (SANDBOX_LATENCY).")  # fmt: skip
@click.option("--fault-rate", default=0.0, show_default=True, envvar="SANDBOX_FAULT_RATE",
              type=click.FloatRange(0, 1),
              help="Share of calls that fail at random (SANDBOX_FAULT_RATE).")  # fmt: skip
@click.option("--fault-seed", default=7, show_default=True, help="Seed of the random faults.")
def sandbox(
    port: int, host: str, state: Path | None, latency: float, fault_rate: float, fault_seed: int
) -> None:
    """Serve the Autotask sandbox over HTTP; point AUTOTASK_BASE_URL at it. GET /_sandbox/stats
    reports the peak calls in flight per entity, the faults injected and the writes seen."""
    transport = SandboxTransport(open_tenant(state), latency=latency, enforce_zone_host=False,
                                 fault_rate=fault_rate, fault_seed=fault_seed)  # fmt: skip
    click.echo(f"Autotask sandbox on http://{host}:{port}/ATServicesRest/V1.0/")
    click.echo(
        f"  AUTOTASK_BASE_URL=http://{host}:{port}/ATServicesRest/ AUTOTASK_USERNAME={SANDBOX_USERNAME} "
        f"AUTOTASK_INTEGRATION_CODE={SANDBOX_INTEGRATION_CODE} AUTOTASK_SECRET=<see README>"
    )
    web.run_app(create_sandbox_app(transport), host=host, port=port, print=None)


@main.command()
def migrate() -> None:
    """Apply the database migrations (also done at start-up)."""
    settings = load_settings()
    asyncio.run(upgrade(settings.database_url))
    click.echo(f"Database {describe(settings.database_url)} is at the latest schema.")


@main.command()
def doctor() -> None:
    """Check the configuration and print what to fix."""
    settings = load_settings()
    checks = asyncio.run(_doctor(settings))
    click.echo(render(checks))
    if not all(c.ok for c in checks):
        sys.exit(1)


async def _doctor(settings: Settings) -> list[Check]:
    async with build(settings) as container:
        return await run_checks(container)


@main.command("teams-package")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("onboarding-teams-app.zip"), show_default=True)  # fmt: skip
@click.option("--version", "app_version", default="1.0.0", show_default=True,
              help="The app's version; raise it for every upload after the first.")  # fmt: skip
@click.option("--developer", default=None, help="Publisher name shown in Teams.")
@click.option("--website-url", default=None, help="Publisher page (default: PUBLIC_URL).")
@click.option("--privacy-url", default=None, help="Privacy statement (default: the website).")
@click.option("--terms-url", default=None, help="Terms of use (default: the website).")
def teams_package(output: Path, app_version: str, developer: str | None, website_url: str | None,
                  privacy_url: str | None, terms_url: str | None) -> None:  # fmt: skip
    """Write the Teams app package (manifest and icons) to upload in Teams."""
    from bot.teams_package import PackageError, default_publisher, write_package

    settings = load_settings()
    try:
        publisher = default_publisher(settings, developer, website_url, privacy_url, terms_url)
        write_package(settings, publisher, output, version=app_version)
    except PackageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {output} for Teams app {settings.teams_app_id} (manifest v1.29).")
    click.echo("Upload it in Teams: Apps > Manage your apps > Upload an app.")


@main.group()
def webhooks() -> None:
    """The Autotask company webhook that reports finished invoice setups."""


@webhooks.command("sync")
def webhooks_sync() -> None:
    """Create or repair this installation's company webhook (also done by `run`)."""
    settings = load_settings()
    _logging(settings)
    if not settings.webhooks_enabled:
        raise click.ClickException(
            "set PUBLIC_URL and AUTOTASK_WEBHOOK_SECRET first: Autotask needs the URL to call "
            "and the key to sign with"
        )
    report = asyncio.run(_sync(settings))
    click.echo(f"Autotask company webhook: {report.describe()}")
    if report.fix:
        click.echo(f"  -> {report.fix}")
    if not report.ok:
        sys.exit(1)


async def _sync(settings: Settings) -> WebhookReport:
    await upgrade(settings.database_url)
    async with build(settings) as container:
        assert container.webhooks is not None
        try:
            return await container.webhooks.sync()
        except AutotaskError as exc:
            raise click.ClickException(f"Autotask refused: {exc}\n  -> {PERMISSION_FIX}") from None


@main.command()
@click.option("--lang", default=None, help="Language of the problems (en, es).")
def playbooks(lang: str | None) -> None:
    """Check the playbooks of PLAYBOOKS_DIR against Autotask and list them (exit 1 if any is not
    offered)."""
    settings = load_settings()
    if settings.autotask_mode == "sandbox":
        click.echo(startup_lines(settings)[1])
    sys.exit(asyncio.run(_playbooks(settings, Translator(_locale(lang)))))


async def _playbooks(settings: Settings, t: Translator) -> int:
    async with build(settings) as container:
        return await list_playbooks(container, t, click.echo)


@main.command()
@click.option("--answers", "answers_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML (one client) or CSV (one client a row) instead of prompts.")  # fmt: skip
@click.option(
    "--apply", "do_apply", is_flag=True, help="Apply to Autotask (default: print the plan)."
)
@click.option(
    "--resume", "resume_id", default=None, help="Resume or retry the onboarding with this id."
)
@click.option("--lang", default=None, help="Language of prompts and reports (en, es).")
@click.option("--playbook", default=None,
              help="Start the prompts from this playbook (its title or file name).")  # fmt: skip
def onboard(
    answers_file: Path | None, do_apply: bool, resume_id: str | None, lang: str | None,
    playbook: str | None,
) -> None:  # fmt: skip
    """Onboard a client from the terminal: prompts, or an answers file (dry run unless --apply)."""
    settings = load_settings()
    _logging(settings, terminal=True)
    sys.exit(asyncio.run(_onboard(settings, answers_file, do_apply, resume_id, lang, playbook)))


async def _onboard(
    settings: Settings, answers_file: Path | None, do_apply: bool, resume_id: str | None,
    lang: str | None, playbook: str | None = None,
) -> int:  # fmt: skip
    await upgrade(settings.database_url)
    t = Translator(_locale(lang))
    if settings.autotask_mode == "sandbox":
        click.echo(startup_lines(settings)[1])
    async with build(settings) as container:
        if resume_id:
            return await resume(resume_id, service=container.onboarding,
                                presenter=_terminal(container, t), t=t, echo=click.echo)  # fmt: skip
        if answers_file is not None:
            return await run_answers_file(
                answers_file, service=container.onboarding, presenter=_terminal(container, t),
                apply=do_apply, t=t, echo=click.echo,
            )  # fmt: skip
        return await _prompter(container, lang).run(playbook=playbook)


@main.command()
@click.argument("company", required=False)
@click.option("--apply", "do_apply", is_flag=True,
              help="Attach the devices as suggested (default: list them with the preview).")  # fmt: skip
@click.option("--lang", default=None, help="Language of the list (en, es).")
def devices(company: str | None, do_apply: bool, lang: str | None) -> None:
    """Devices that arrived after a managed onboarding and wait for a decision (COMPANY: part of
    its name), with the preview of attaching them as suggested; --apply attaches them. The due
    follow-ups are swept first, as the scheduler would."""
    settings = load_settings()
    _logging(settings, terminal=True)
    sys.exit(asyncio.run(_devices(settings, company, do_apply, Translator(_locale(lang)))))


async def _devices(settings: Settings, company: str | None, do_apply: bool, t: Translator) -> int:
    await upgrade(settings.database_url)
    if settings.autotask_mode == "sandbox":
        click.echo(startup_lines(settings)[1])
    async with build(settings) as container:
        assert container.devices is not None
        await container.devices.sweep()  # what the scheduler would find now, offered first
        return await review_devices(container.devices, company, apply=do_apply, t=t,
                                    echo=click.echo)  # fmt: skip


if __name__ == "__main__":
    main()
