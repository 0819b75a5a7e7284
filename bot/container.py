"""Builds the services from settings: the real Autotask or the sandbox, the database, caches, the
onboarding service, and (when Slack, Teams or both are configured) the reminders it starts after
every run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chat import (
    chat_reminders,
    device_followups,
    device_notifiers,
    notifiers,
    present_runs_in_slack,
    web_client,
)
from bot.drain import Drain
from bot.settings import Settings
from bot.teams_outbound import TeamsOutbound, build_outbound
from services.autotask.client import AutotaskClient
from services.autotask.limits import CallSlots, EntityLimiter, RetryPolicy
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import SandboxTransport, open_tenant, sandbox_credentials
from services.autotask.zones import Credentials
from services.devices.service import DeviceFollowUps
from services.directory import Directory
from services.onboarding.options import OptionSources
from services.onboarding.playbooks.catalog import Playbooks
from services.onboarding.presenter import Presenters
from services.onboarding.runner import Runner
from services.onboarding.service import OnboardingService
from services.reminders.callbacks import CallbackReceiver
from services.reminders.safety_net import SafetyNet
from services.reminders.service import Reminders
from services.reminders.webhooks import CompanyWebhookRegistry, WebhookConfig
from services.store.autotask_slots import SharedEntityLimiter, lock_engine
from services.store.db import Database
from services.store.engine import is_postgres, make_engine

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
    playbooks: Playbooks  # PLAYBOOKS_DIR, checked against the tenant (start-up, refresh, doctor)
    sandbox: SandboxTransport | None
    drain: Drain
    slack: AsyncWebClient | None = None
    teams: TeamsOutbound | None = None  # the Teams adapter and proactive sender, when configured
    reminders: Reminders | None = None  # when a chat platform that can deliver them is configured
    webhooks: CompanyWebhookRegistry | None = None  # the Autotask company webhook (registration)
    callbacks: CallbackReceiver | None = None  # its callouts; None unless PUBLIC_URL and secret
    safety_net: SafetyNet | None = None
    devices: DeviceFollowUps | None = None  # devices that arrive later (always built)


def autotask_credentials(settings: Settings) -> Credentials:
    if settings.autotask_mode == "sandbox":
        return sandbox_credentials()
    return settings.autotask_credentials()


def call_slots(settings: Settings, credentials: Credentials) -> CallSlots:
    """Per-process slots on SQLite; on PostgreSQL, slots shared by every replica of the tenant,
    with ``AUTOTASK_CONCURRENCY`` as this replica's cap in front of them."""
    local = EntityLimiter(per_entity=settings.autotask_concurrency)
    if not is_postgres(settings.database_url):
        return local
    return SharedEntityLimiter(
        lock_engine(settings.database_url),
        scope=credentials.integration_code.get_secret_value(),
        local=local,
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
            open_tenant(settings.sandbox_state_file),
            latency=settings.sandbox_latency,
            fault_rate=settings.sandbox_fault_rate,
        )
    transport: httpx.AsyncBaseTransport | None = (
        sandbox if settings.autotask_mode == "sandbox" else None
    )
    http = httpx.AsyncClient(transport=transport, timeout=AUTOTASK_TIMEOUT, follow_redirects=False)
    engine = make_engine(settings.database_url)
    credentials = autotask_credentials(settings)
    limiter = call_slots(settings, credentials)
    autotask = AutotaskClient(
        credentials,
        http_client=http,
        base_url=settings.autotask_base_url,
        limiter=limiter,
        retry=RetryPolicy(max_retries=settings.autotask_max_retries),
    )
    reference = ReferenceData(autotask)
    db = Database(engine)
    runner = Runner(
        client=autotask,
        reference=reference,
        db=db,
        impersonate=settings.autotask_impersonate,
        billing_admin_emails=settings.billing_admins,
        owner=f"{settings.replica[:48]}/{uuid.uuid4().hex[:8]}",  # unique if ids repeat
        lease=timedelta(seconds=settings.run_lease_seconds),
        step_retries=settings.run_step_retries,
    )  # fmt: skip
    options = OptionSources(autotask, reference)
    playbooks = Playbooks(settings.playbooks_dir, options)
    options.playbooks = playbooks.offered  # the first page's playbook choice
    directory = Directory(reference, settings.onboarders, settings.onboarding_admins)
    slack = web_client(settings) if settings.slack_mode != "off" else None
    teams = build_outbound(settings) if settings.teams_mode != "off" else None
    notifier = notifiers(slack, teams, db)
    reminders = (
        chat_reminders(settings, notifier, autotask=autotask, reference=reference, db=db)
        if notifier is not None
        else None
    )
    presenters = Presenters()
    if slack is not None:
        present_runs_in_slack(presenters, slack)
    onboarding = OnboardingService(runner=runner, options=options, db=db, directory=directory,
                                   presenters=presenters, reminders=reminders,
                                   playbooks=playbooks, auto_resumes=settings.run_auto_resumes)  # fmt: skip
    devices = device_followups(settings, device_notifiers(slack, teams, db), autotask=autotask,
                               reference=reference, db=db, runner=runner)  # fmt: skip
    devices.bind(onboarding.runs)  # a managed run starts a follow-up; an attach ends here
    container = Container(
        settings=settings, autotask=autotask, reference=reference, engine=engine, db=db,
        runner=runner, options=options, directory=directory, presenters=presenters,
        onboarding=onboarding, playbooks=playbooks,
        sandbox=sandbox if settings.autotask_mode == "sandbox" else None,
        slack=slack, teams=teams, reminders=reminders, drain=Drain(), devices=devices,
    )  # fmt: skip
    _webhooks(container)
    try:
        yield container
    finally:
        if container.callbacks is not None:
            await container.callbacks.aclose()
        await http.aclose()
        if isinstance(limiter, SharedEntityLimiter):
            await limiter.close()
        await engine.dispose()


def _webhooks(container: Container) -> None:
    """The company webhook, its receiver and the safety-net sweep that covers for it."""
    settings = container.settings
    config = None
    if settings.public_url and settings.autotask_webhook_secret:
        config = WebhookConfig(settings.public_url, settings.autotask_webhook_secret)
    registry = CompanyWebhookRegistry(
        client=container.autotask, db=container.db, config=config, items=settings.reminder_items
    )
    container.webhooks = registry

    def reminders() -> Reminders | None:  # None without a chat platform to deliver them
        return container.reminders

    if config is not None:
        container.callbacks = CallbackReceiver(
            secret=config.secret, db=container.db, registry=registry, reminders=reminders
        )
    container.safety_net = SafetyNet(
        db=container.db,
        reminders=reminders,
        webhook_name=registry.name,
        every=timedelta(minutes=settings.reminder_sweep_minutes),
        every_with_webhook=timedelta(minutes=settings.reminder_sweep_minutes_with_webhook),
        silence=timedelta(hours=settings.autotask_webhook_silence_hours),
    )
