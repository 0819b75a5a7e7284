"""The Microsoft Teams front-end: activities, dialogs and cards over the services.

``bot/teams.py`` builds the SDK objects and calls ``register``; nothing here reads settings.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import AgentApplication
from microsoft_agents.hosting.msteams import TeamsAgentExtension

from handlers.teams import activities, devices, dialogs, form, reminders, run
from handlers.teams.deps import TeamsDeps


def register(app: AgentApplication[Any], teams: TeamsAgentExtension[Any], deps: TeamsDeps) -> None:
    activities.register(app, deps)
    dialogs.register(app, teams, deps)
    form.register(app, teams, deps)
    run.register(app, deps)
    reminders.register(app, deps)
    devices.register(app, deps)
