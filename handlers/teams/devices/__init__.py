"""Device offers in Teams: the notifier (proactive cards updated in place), the card's Universal
Actions and the Review card."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import AgentApplication

from handlers.teams.deps import TeamsDeps
from handlers.teams.devices import buttons


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    buttons.register(app, deps)
