"""Invoice-setup reminders in Slack: the notifier (DMs updated in place), their buttons and the
hand-over modal."""

from __future__ import annotations

from typing import Any

from handlers.slack.deps import SlackDeps
from handlers.slack.reminders import buttons


def register(app: Any, deps: SlackDeps) -> None:
    buttons.register(app, deps)
