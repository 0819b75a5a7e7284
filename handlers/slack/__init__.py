"""Slack front-end: Bolt listeners that translate between Slack and the onboarding service.

Grouped by feature, each registering its own listeners: ``form`` (``/onboard``, pages, typeahead,
dependent redraws, review and Apply), ``run`` (the progress message's Retry and Cancel; its
presenter is registered by ``bot/``), ``home`` (App Home), ``reminders`` (the DMs' buttons and
the hand-over modal) and ``devices`` (device offers: their buttons and Review). Shared helpers that are not listeners: ``deps``, ``ids``, ``metadata``,
``mrkdwn`` (the formatter), ``views`` (view primitives), ``state``, ``lines``, ``wording``,
``private`` (ephemeral answers), ``envelope`` (the payload shape check, run before Bolt by ``bot/``).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from handlers.slack import devices, form, home, reminders, run
from handlers.slack.deps import SlackDeps
from handlers.slack.ids import Action


def register(app: Any, deps: SlackDeps) -> None:
    """Attach every listener to a Bolt ``AsyncApp``."""
    for feature in (form, run, home, reminders, devices):
        feature.register(app, deps)

    async def link_clicked(ack: AsyncAck) -> None:
        await ack()  # "Open in Autotask" (on several features' messages) opens a URL

    app.action(Action.OPEN_AUTOTASK)(link_clicked)
