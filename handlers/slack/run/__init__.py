"""A run and its progress message: the Slack presenter, and Retry / Cancel on the message."""

from __future__ import annotations

from typing import Any

from handlers.slack.deps import SlackDeps
from handlers.slack.run import buttons


def register(app: Any, deps: SlackDeps) -> None:
    buttons.register(app, deps)
