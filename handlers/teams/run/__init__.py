"""A run in Teams: the progress card's presenter, and Retry / Cancel on the card."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import AgentApplication

from handlers.teams.deps import TeamsDeps
from handlers.teams.run import buttons


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    buttons.register(app, deps)
