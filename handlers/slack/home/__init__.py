"""App Home: the person's drafts and onboardings, with Resume and Retry."""

from __future__ import annotations

from typing import Any

from handlers.slack.deps import SlackDeps
from handlers.slack.home import listeners


def register(app: Any, deps: SlackDeps) -> None:
    listeners.register(app, deps)
