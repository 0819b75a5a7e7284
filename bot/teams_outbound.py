"""What the process needs to write to Teams outside any request: the SDK adapter with this app's
credentials and the proactive sender on it. Built by ``bot/container.py`` (reminders send from the
scheduler) and shared with ``bot/teams.py``, which serves ``POST /api/messages`` on the same one.
"""

from __future__ import annotations

from dataclasses import dataclass

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization import AuthTypes
from microsoft_agents.hosting.core.security import OutboundHostValidator

from bot.settings import Settings
from handlers.teams.proactive import TeamsSender


@dataclass
class TeamsOutbound:
    auth: AgentAuthConfiguration
    connections: MsalConnectionManager
    adapter: CloudAdapter
    sender: TeamsSender
    anonymous: bool


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    if settings.teams_mode != "authenticated":
        return AgentAuthConfiguration(anonymous_allowed=True)
    assert settings.teams_app_password is not None
    return AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=settings.teams_app_password.get_secret_value(),
        anonymous_allowed=False,
    )


def connection_manager(auth: AgentAuthConfiguration) -> MsalConnectionManager:
    return MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": auth})


def build_outbound(settings: Settings) -> TeamsOutbound:
    anonymous = settings.teams_mode != "authenticated"
    auth = auth_configuration(settings)
    connections = connection_manager(auth)
    adapter = CloudAdapter(
        connection_manager=connections,
        # With credentials, messages only ever go to Microsoft's own service hosts.
        host_validator=None if anonymous else OutboundHostValidator(enabled=True),
    )
    sender = TeamsSender(adapter, None if anonymous else settings.teams_app_id)
    return TeamsOutbound(auth, connections, adapter, sender, anonymous)
