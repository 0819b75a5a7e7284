"""Who is acting: the Teams member behind an activity, and whether they may onboard.

The e-mail comes from the conversation's member info (``GET v3/conversations/{id}/members/{user}``
through the turn's own connector client, which works in anonymous local mode too; the
``TeamsTurnContext.api_client`` path needs Entra credentials even to read a member).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from services.directory import Person
from services.onboarding.actor import Actor

if TYPE_CHECKING:
    from handlers.teams.deps import TeamsDeps

logger = logging.getLogger(__name__)
# The turn's services are keyed by the connector's abstract base class; mypy refuses an abstract
# class where ``type[T]`` is expected, so the key is typed as the plain object it is used as.
CONNECTOR: Any = ConnectorClientBase


@dataclass(frozen=True)
class Member:
    id: str
    aad_object_id: str | None
    email: str | None
    name: str | None


async def member(context: TurnContext, deps: TeamsDeps) -> Member:
    """The sender's member info, cached a while per Teams user id; no e-mail if Teams gave none."""
    sender = context.activity.from_property
    if sender is None or not sender.id:
        return Member("", None, None, None)
    cached = deps.members.get(sender.id)
    if cached and time.monotonic() - cached[0] < deps.member_ttl:
        return cached[1]
    found = Member(sender.id, sender.aad_object_id, None, sender.name)
    client = context.services.get(CONNECTOR)
    conversation = context.activity.conversation
    if isinstance(client, TeamsConnectorClient) and conversation is not None:
        try:
            info = await client.get_conversation_member(conversation.id, sender.id)
        except Exception as exc:  # the person gets "Teams did not tell me your e-mail"
            logger.warning("Teams member lookup failed: %s", type(exc).__name__)
            return found
        email = info.email or (
            info.user_principal_name if "@" in (info.user_principal_name or "") else None
        )
        found = Member(sender.id, info.aad_object_id or sender.aad_object_id, email, info.name)
        deps.members[sender.id] = (time.monotonic(), found)
    return found


async def onboarder(context: TurnContext, deps: TeamsDeps) -> tuple[Member, Person]:
    """The member and what ONBOARDERS (or their Autotask resource) says about them."""
    who = await member(context, deps)
    return who, await deps.directory.person(who.email)


PLATFORM = "teams"


async def actor(context: TurnContext, deps: TeamsDeps) -> Actor:
    """The person behind an activity as the onboarding service checks them: the Teams user id
    the connector vouched for and the e-mail Teams gave for it, never anything a card carries."""
    who = await member(context, deps)
    return await deps.service.identify(platform=PLATFORM, user_id=who.id, email=who.email,
                                       locale=context.activity.locale or "en")  # fmt: skip
