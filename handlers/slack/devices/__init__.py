"""Device offers in Slack: the notifier (DMs updated in place), their buttons, and Review."""

from __future__ import annotations

from typing import Any

from handlers.slack.deps import SlackDeps
from handlers.slack.devices import buttons, review


def register(app: Any, deps: SlackDeps) -> None:
    buttons.register(app, deps)
    review.register(app, deps)
