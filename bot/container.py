"""Builds the services from settings: the real Autotask or the sandbox, the database, caches, the
onboarding service, and (when Slack is configured) the reminders it starts after every run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chat import present_runs_in_slack, slack_reminders, web_client
from bot.settings import Settings
from services.autotask.client import AutotaskClient
from services.autotask.limits import EntityLimiter, RetryPolicy
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, open_tenant, sandbox_credentials
from services.autotask.zones import Credentials
from services.directory import Directory
from services.onboarding.options import OptionSources
from services.onboarding.presenter import Presenters
from services.onboarding.runner import Runner
from services.onboarding.service import OnboardingService
from services.reminders.service import Reminders
from services.store.db import Database
from services.store.engine import make_engine

AUTOTASK_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass
class Container:
    settings: Settings
    autotask: AutotaskClient
    reference: ReferenceData
    engine: AsyncEngine
    db: Database
    runner: Runner
    options: OptionSources
    directory: Directory
    presenters: Presenters  # each front-end registers its run presenter here
    onboarding: OnboardingService  # the use cases every front-end calls
    sandbox: SandboxTransport | None
    slack: AsyncWebClient | None = None
    reminders: Reminders | None = None  # when a chat platform that can deliver them is configured


def autotask_credentials(settings: Settings) -> Credentials:
    if settings.autotask_mode == "sandbox":
        return sandbox_credentials()
    assert settings.autotask_username and settings.autotask_secret
    assert settings.autotask_integration_code
    return Credentials(
        settings.autotask_username, settings.autotask_secret, settings.autotask_integration_code
    )


@asynccontextmanager
async def build(
    settings: Settings, *, sandbox: SandboxTransport | None = None
) -> AsyncIterator[Container]:
    """Everything the process needs, closed again on exit.

    With no Autotask credentials the client talks to the built-in sandbox (persisted to
    ``SANDBOX_STATE_FILE``); tests pass their own ``sandbox`` transport.
    """
    if settings.autotask_mode == "sandbox" and sandbox is None:
        sandbox = SandboxTransport(
            open_tenant(settings.sandbox_state_file), latency=settings.sandbox_latency
        )
    transport: httpx.AsyncBaseTransport | None = (
        sandbox if settings.autotask_mode == "sandbox" else None
    )
    http = httpx.AsyncClient(transport=transport, timeout=AUTOTASK_TIMEOUT, follow_redirects=False)
    engine = make_engine(settings.database_url)
    autotask = AutotaskClient(
        autotask_credentials(settings),
        http_client=http,
        base_url=settings.autotask_base_url,
        limiter=EntityLimiter(per_entity=settings.autotask_concurrency),
        retry=RetryPolicy(max_retries=settings.autotask_max_retries),
    )
    reference = ReferenceData(autotask)
    db = Database(engine)
    runner = Runner(client=autotask, reference=reference, db=db,
                    impersonate=settings.autotask_impersonate,
                    billing_admin_emails=settings.billing_admins)  # fmt: skip
    options = OptionSources(autotask, reference)
    directory = Directory(reference, settings.onboarders, settings.onboarding_admins)
    slack = web_client(settings) if settings.slack_mode != "off" else None
    reminders = (
        slack_reminders(settings, slack, autotask=autotask, reference=reference, db=db)
        if slack is not None
        else None
    )
    presenters = Presenters()
    if slack is not None:
        present_runs_in_slack(presenters, slack)
    onboarding = OnboardingService(runner=runner, options=options, db=db, directory=directory,
                                   presenters=presenters, reminders=reminders)  # fmt: skip
    try:
        yield Container(
            settings=settings, autotask=autotask, reference=reference, engine=engine, db=db,
            runner=runner, options=options, directory=directory, presenters=presenters,
            onboarding=onboarding, sandbox=sandbox if settings.autotask_mode == "sandbox" else None,
            slack=slack, reminders=reminders,
        )  # fmt: skip
    finally:
        await http.aclose()
        await engine.dispose()
