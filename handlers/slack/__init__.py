"""Slack front-end: Bolt listeners over the platform-neutral onboarding services."""

from __future__ import annotations

from typing import Any

from handlers.slack import actions, commands, home, options, reminders, submissions
from handlers.slack.deps import SlackDeps


def register(app: Any, deps: SlackDeps) -> None:
    """Attach every listener to a Bolt ``AsyncApp``."""
    for module in (commands, submissions, actions, options, home, reminders):
        module.register(app, deps)
