"""Microsoft Teams through the Microsoft 365 Agents SDK: ``POST /api/messages`` and its wiring.

With ``TEAMS_APP_ID``/``TEAMS_APP_PASSWORD``/``TEAMS_TENANT_ID`` every request must carry a Bot
Framework JWT (checked by the SDK's middleware) and replies carry Entra tokens. Without them, in
local mode, requests are anonymous, so the bot only answers activities whose ``serviceUrl`` is on
this machine (Agents Playground, tests): an anonymous bot that followed any ``serviceUrl`` would let
anyone on the network claim any e-mail address.
"""

from __future__ import annotations

import ipaddress
import logging
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web import NotAppKeyWarning
from microsoft_agents.activity import Activity, ActivityTypes, InvokeResponse
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_decorator,
    start_agent_process,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.msteams import TeamsAgentExtension

import handlers.teams
from bot.container import Container
from bot.teams_outbound import build_outbound
from handlers.teams.deps import TeamsDeps
from handlers.teams.proactive import TeamsSender
from handlers.teams.references import PLATFORM
from handlers.teams.run.presenter import TeamsPresenter
from services.conversations import Conversations
from services.directory import Directory
from services.i18n import Translator

logger = logging.getLogger(__name__)

ROUTE = "/api/messages"
# The SDK's middleware reads its configuration under this plain string key of the aiohttp app.
SDK_CONFIG_KEY = "agent_configuration"


@dataclass
class TeamsBot:
    app: AgentApplication[TurnState]
    adapter: CloudAdapter
    auth: AgentAuthConfiguration
    sender: TeamsSender
    deps: TeamsDeps
    anonymous: bool


TEAMS = web.AppKey("teams", TeamsBot)
AUTHORIZED = web.RequestKey("teams_authorized", bool)  # the token passed; what follows is the turn


def build_teams(container: Container) -> TeamsBot:
    settings = container.settings
    anonymous = settings.teams_mode != "authenticated"
    if anonymous:  # said once at start-up; the SDK would repeat it on every turn
        logging.getLogger(
            "microsoft_agents.hosting.core.connector.client.user_token_client"
        ).setLevel(logging.ERROR)
    outbound = container.teams or build_outbound(settings)  # one adapter for requests and sends
    auth, connections, adapter = outbound.auth, outbound.connections, outbound.adapter
    adapter.on_turn_error = _on_turn_error
    app = AgentApplication[TurnState](
        storage=MemoryStorage(),  # SDK turn state only; everything we keep is in our database
        connection_manager=connections,
        start_typing_timer=False,  # answers come within the turn; a late typing post would race it
    )
    teams = TeamsAgentExtension[TurnState](app)
    deps = TeamsDeps(
        directory=Directory(container.reference, settings.onboarders),
        conversations=Conversations(container.db),
        service=container.onboarding,
        reminders=container.reminders,
        devices=container.devices,
    )
    handlers.teams.register(app, teams, deps)
    container.presenters.register(PLATFORM, TeamsPresenter(outbound.sender, deps.conversations))
    return TeamsBot(app, adapter, auth, outbound.sender, deps, anonymous)


def mount(web_app: web.Application, bot: TeamsBot) -> None:
    """Add ``POST /api/messages`` to the process's one aiohttp app (``web_app[TEAMS]`` is the bot,
    for proactive work outside a request)."""
    web_app[TEAMS] = bot
    with warnings.catch_warnings():  # the SDK's key is a plain string, not an aiohttp AppKey
        warnings.simplefilter("ignore", NotAppKeyWarning)
        web_app[SDK_CONFIG_KEY] = bot.auth
    web_app.router.add_post(ROUTE, messages_route(bot))


def messages_route(bot: TeamsBot) -> Any:
    async def process(request: web.Request) -> web.StreamResponse:
        request[AUTHORIZED] = True
        response = await start_agent_process(request, bot.app, bot.adapter)
        return response if response is not None else web.Response(status=202)

    checked = jwt_authorization_decorator(process)

    async def api_messages(request: web.Request) -> web.StreamResponse:
        if bot.anonymous and not await _from_this_machine(request):
            return web.json_response(
                {"error": "anonymous mode answers only activities whose serviceUrl is on this "
                          "machine; set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID"},
                status=403,
            )  # fmt: skip
        try:
            response: web.StreamResponse = await checked(request)
            return response
        except Exception as exc:
            if request.get(AUTHORIZED):
                raise
            # The SDK's validator raises (instead of refusing) on some malformed tokens, e.g. a
            # JWT without a key id: that is a refusal too, not a server error.
            logger.warning("Teams: refused a request whose token could not be checked (%s)",
                           type(exc).__name__)  # fmt: skip
            return web.json_response(
                {"error": "Invalid token or authentication failed."}, status=401
            )

    return api_messages


async def _from_this_machine(request: web.Request) -> bool:
    try:
        body = await request.json()
    except ValueError:
        return True  # the SDK answers malformed bodies itself (400)
    url = body.get("serviceUrl") if isinstance(body, dict) else None
    if not url:
        return True
    host = urlsplit(str(url)).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        logger.warning("Teams (anonymous): refused an activity for serviceUrl host %s", host)
        return False


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log the failure with its traceback and tell the person in their language; the SDK's default
    would send them the exception's own text."""
    logger.error("Teams turn failed (%s)", context.activity.type, exc_info=error)
    t = Translator(context.activity.locale)
    if context.activity.type == ActivityTypes.invoke:
        from handlers.teams.dialogs import message

        body = message(t("teams.error")).model_dump(mode="json", by_alias=True, exclude_none=True)
        await context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
        )
    elif context.activity.type == ActivityTypes.message:
        await context.send_activity(t("teams.error"))
