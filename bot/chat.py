"""Chat-platform clients the services use outside any request: the Slack Web API client, the
invoice reminders on Slack, Teams or both (``services/reminders/routing.py`` picks per person), and
the Slack run presenter. Built once per process, whichever front-end applies onboardings: a
terminal apply with a chat platform configured reminds the billing administrators too, and a
terminal ``--resume`` of a Slack onboarding updates its message."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.teams_outbound import TeamsOutbound
from handlers.slack.devices.notifier import SlackDeviceNotifier
from handlers.slack.reminders.notifier import SlackNotifier
from handlers.slack.run.presenter import SlackPresenter
from handlers.teams.devices.notifier import TeamsDeviceNotifier
from handlers.teams.reminders.notifier import TeamsNotifier
from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.conversations import Conversations
from services.devices.notifier import DeviceNotifier
from services.devices.routing import DeviceRouting
from services.devices.rules import ServiceRules
from services.devices.service import DeviceFollowUps
from services.onboarding.presenter import Presenters
from services.onboarding.runner import Runner
from services.reminders.notifier import Notifier
from services.reminders.policy import BusinessHours
from services.reminders.routing import RoutingNotifier
from services.reminders.service import Reminders
from services.store.db import Database


def web_client(settings: Settings) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def notifiers(
    slack: AsyncWebClient | None, teams: TeamsOutbound | None, db: Database
) -> RoutingNotifier | None:
    """Every configured platform's notifier, Slack before Teams (the order ``routing.py`` tries
    when the onboarding's own platform cannot find someone); ``None`` without any."""
    platforms: dict[str, Notifier] = {}
    if slack is not None:
        platforms["slack"] = SlackNotifier(slack)
    if teams is not None:
        platforms["teams"] = TeamsNotifier(teams.sender, Conversations(db))
    return RoutingNotifier(platforms) if platforms else None


def chat_reminders(
    settings: Settings,
    notifier: RoutingNotifier,
    *,
    autotask: AutotaskClient,
    reference: ReferenceData,
    db: Database,
) -> Reminders:
    return Reminders(
        client=autotask,
        reference=reference,
        db=db,
        notifier=notifier,
        hours=hours(settings),
        escalate_after=settings.reminder_escalate_after,
        escalation_channel=settings.reminder_escalation_channel,
        required=settings.reminder_items,
        default_admins=settings.billing_admins, onboarding_admins=settings.onboarding_admins,
    )  # fmt: skip


def hours(settings: Settings) -> BusinessHours:
    """REMINDER_HOURS and REMINDER_WEEKDAYS: when reminders and device offers may be sent."""
    return BusinessHours.parse(settings.reminder_hours, settings.reminder_weekdays,
                               settings.reminder_interval_hours, settings.reminder_default_tz)  # fmt: skip


def device_notifiers(
    slack: AsyncWebClient | None, teams: TeamsOutbound | None, db: Database
) -> DeviceRouting | None:
    """Every configured platform that can DM a device offer, Slack before Teams."""
    platforms: dict[str, DeviceNotifier] = {}
    if slack is not None:
        platforms["slack"] = SlackDeviceNotifier(slack)
    if teams is not None:
        platforms["teams"] = TeamsDeviceNotifier(teams.sender, Conversations(db))
    return DeviceRouting(platforms) if platforms else None


def device_followups(
    settings: Settings,
    notifier: DeviceRouting | None,
    *,
    autotask: AutotaskClient,
    reference: ReferenceData,
    db: Database,
    runner: Runner,
) -> DeviceFollowUps:
    """Built with no chat platform too: the terminal's ``onboard-bot devices`` attaches then."""
    return DeviceFollowUps(
        client=autotask, reference=reference, db=db, runner=runner, notifier=notifier,
        hours=hours(settings), rules=ServiceRules.parse(settings.device_service_rules),
        quiet_days=settings.device_quiet_days,
        every=timedelta(minutes=settings.device_sweep_minutes),
        onboarding_admins=settings.onboarding_admins,
    )  # fmt: skip


def present_runs_in_slack(presenters: Presenters, client: AsyncWebClient) -> None:
    """Slack onboardings show their progress in their Slack message, whichever process runs them."""
    presenters.register("slack", SlackPresenter(client))
