"""``onboard-bot``: run | sandbox | doctor."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click
from aiohttp import web
from pydantic import ValidationError

from bot import __version__
from bot.container import build
from bot.doctor import Check, render, run_checks
from bot.sandbox_server import create_sandbox_app
from bot.server import create_app
from bot.settings import Settings
from services.autotask.sandbox import SandboxTransport, open_tenant
from services.store.engine import describe


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


@click.group()
def main() -> None:
    """Onboard a newly won MSP client into Autotask PSA."""


@main.command()
def run() -> None:
    """Start the bot (sandbox and SQLite when no credentials are set)."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for line in startup_lines(settings):
        click.echo(line)
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    async with build(settings) as container:
        runner = web.AppRunner(create_app(container))
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        click.echo(
            f"HTTP: listening on http://{settings.host}:{settings.port} (GET /healthz, /readyz)"
        )
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


@main.command()
@click.option("--port", default=8081, show_default=True, help="Port to listen on (127.0.0.1).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--state", type=click.Path(path_type=Path), default=None,
              help="Persist the tenant to this JSON file (default: in memory, fresh seed).")  # fmt: skip
@click.option("--latency", default=0.0, show_default=True, help="Seconds added to every call.")
def sandbox(port: int, host: str, state: Path | None, latency: float) -> None:
    """Serve the Autotask sandbox over HTTP; point AUTOTASK_BASE_URL at it."""
    transport = SandboxTransport(open_tenant(state), latency=latency, enforce_zone_host=False)
    from services.autotask.sandbox import SANDBOX_INTEGRATION_CODE, SANDBOX_USERNAME

    click.echo(f"Autotask sandbox on http://{host}:{port}/ATServicesRest/V1.0/")
    click.echo(
        f"  AUTOTASK_BASE_URL=http://{host}:{port}/ATServicesRest/ AUTOTASK_USERNAME={SANDBOX_USERNAME} "
        f"AUTOTASK_INTEGRATION_CODE={SANDBOX_INTEGRATION_CODE} AUTOTASK_SECRET=<see README>"
    )
    web.run_app(create_sandbox_app(transport), host=host, port=port, print=None)


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


if __name__ == "__main__":
    main()
