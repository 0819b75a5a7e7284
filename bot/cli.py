"""``onboard-bot``: run | sandbox | migrate | doctor | onboard | webhooks sync."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import click
from aiohttp import web
from pydantic import ValidationError
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot import __version__
from bot.container import Container, build
from bot.doctor import Check, render, run_checks
from bot.sandbox_server import create_sandbox_app
from bot.scheduler import refresh_reference, start_scheduler, sync_webhook
from bot.server import create_app
from bot.settings import Settings
from handlers.console import ConsolePresenter, Prompter, console_presenter, resume, run_answers_file
from services.autotask.errors import AutotaskError
from services.autotask.sandbox import (
    SANDBOX_INTEGRATION_CODE,
    SANDBOX_USERNAME,
    SandboxTransport,
    open_tenant,
)
from services.i18n import Translator
from services.onboarding.actor import LOCAL
from services.reminders.webhooks import CALLBACK_PATH, PERMISSION_FIX, WebhookReport
from services.store.engine import describe
from services.store.migrate import upgrade


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
    return lines


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


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO; keep the terminal front-end readable.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _locale(lang: str | None) -> str:
    return lang or os.environ.get("LC_ALL") or os.environ.get("LANG") or "en"


def _terminal(container: Container) -> ConsolePresenter:
    """The terminal's run presenter, registered for the onboardings it starts."""
    presenter = console_presenter()
    container.presenters.register(LOCAL, presenter)
    return presenter


def _prompter(container: Container, lang: str | None) -> Prompter:
    return Prompter(service=container.onboarding, presenter=_terminal(container),
                    t=Translator(_locale(lang)), echo=click.echo)  # fmt: skip


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
        click.echo(line)
    asyncio.run(_serve(settings, lang))


async def _serve(settings: Settings, lang: str | None) -> None:
    await upgrade(settings.database_url)
    async with build(settings) as container:
        runner = web.AppRunner(create_app(container))
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        routes = "GET /healthz, /readyz" + (
            ", POST /slack/events" if settings.slack_mode == "http" else ""
        )
        if container.callbacks is not None:
            routes += f", POST {CALLBACK_PATH}[/deactivated]"
        click.echo(f"HTTP: listening on http://{settings.host}:{settings.port} ({routes})")
        click.echo(_webhook_line(settings))
        scheduler = start_scheduler(container)
        warm = asyncio.ensure_future(
            refresh_reference(container)
        )  # typeahead starts from a warm cache
        # after the server listens, so that Autotask can reach the URL it is given
        webhook = asyncio.ensure_future(sync_webhook(container))
        socket = await _socket_mode(container) if settings.slack_mode == "socket" else None
        try:
            if settings.slack_mode == "off" and sys.stdin.isatty():
                click.echo("Local mode: starting the terminal front-end (Ctrl+C to stop).")
                await _prompter(container, lang).run()
            else:
                if settings.slack_mode == "off":
                    click.echo("Local mode, no terminal: use `onboard-bot onboard --answers FILE`.")
                await asyncio.Event().wait()
        finally:
            warm.cancel()
            webhook.cancel()
            scheduler.shutdown(wait=False)
            if socket is not None:
                await socket.close_async()
            await runner.cleanup()


async def _socket_mode(container: Container) -> AsyncSocketModeHandler:
    from bot.slack import build_app

    assert container.settings.slack_app_token is not None
    token = container.settings.slack_app_token.get_secret_value()
    handler = AsyncSocketModeHandler(build_app(container), token)
    await handler.connect_async()
    click.echo("Slack: connected in Socket Mode")
    return handler


@main.command()
@click.option("--port", default=8081, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--state", type=click.Path(path_type=Path), default=None,
              help="Persist the tenant to this JSON file (default: in memory, fresh seed).")  # fmt: skip
@click.option("--latency", default=0.0, show_default=True, help="Seconds added to every call.")
def sandbox(port: int, host: str, state: Path | None, latency: float) -> None:
    """Serve the Autotask sandbox over HTTP; point AUTOTASK_BASE_URL at it."""
    transport = SandboxTransport(open_tenant(state), latency=latency, enforce_zone_host=False)
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
@click.option("--answers", "answers_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML (one client) or CSV (one client a row) instead of prompts.")  # fmt: skip
@click.option(
    "--apply", "do_apply", is_flag=True, help="Apply to Autotask (default: print the plan)."
)
@click.option(
    "--resume", "resume_id", default=None, help="Resume or retry the onboarding with this id."
)
@click.option("--lang", default=None, help="Language of prompts and reports (en, es).")
def onboard(
    answers_file: Path | None, do_apply: bool, resume_id: str | None, lang: str | None
) -> None:
    """Onboard a client from the terminal: prompts, or an answers file (dry run unless --apply)."""
    settings = load_settings()
    _logging(settings)
    sys.exit(asyncio.run(_onboard(settings, answers_file, do_apply, resume_id, lang)))


async def _onboard(
    settings: Settings, answers_file: Path | None, do_apply: bool, resume_id: str | None,
    lang: str | None,
) -> int:  # fmt: skip
    await upgrade(settings.database_url)
    t = Translator(_locale(lang))
    if settings.autotask_mode == "sandbox":
        click.echo(startup_lines(settings)[1])
    async with build(settings) as container:
        if resume_id:
            return await resume(resume_id, service=container.onboarding,
                                presenter=_terminal(container), t=t, echo=click.echo)  # fmt: skip
        if answers_file is not None:
            return await run_answers_file(
                answers_file, service=container.onboarding, presenter=_terminal(container),
                apply=do_apply, t=t, echo=click.echo,
            )  # fmt: skip
        return await _prompter(container, lang).run()


if __name__ == "__main__":
    main()
