"""The onboarding form in a Teams dialog: its pages, typeahead, review and Apply."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import AgentApplication
from microsoft_agents.hosting.msteams import TeamsAgentExtension

from handlers.teams.deps import TeamsDeps
from handlers.teams.form import dialog, typeahead


def register(app: AgentApplication[Any], teams: TeamsAgentExtension[Any], deps: TeamsDeps) -> None:
    dialog.register(app, teams, deps)
    typeahead.register(app, deps)
