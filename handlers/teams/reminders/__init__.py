"""Invoice-setup reminders in Teams: the notifier (proactive cards updated in place) and the
card's Universal Actions (Check now, Snooze, Not mine)."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import AgentApplication

from handlers.teams.deps import TeamsDeps
from handlers.teams.reminders import buttons


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    buttons.register(app, deps)
