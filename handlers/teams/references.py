"""Conversation references kept from install or first use, for messages nobody asked for yet.

A personal chat is stored with its member's e-mail (from the member info) and time zone (the
activity's ``localTimezone``), so reminders can find a billing administrator by e-mail and nudge
them in their own business hours.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import TurnContext

from handlers.teams import people
from handlers.teams.deps import TeamsDeps
from services.conversations import Conversation

PLATFORM = "teams"
MEMBER_LOOKUP_SECONDS = 2.0  # before_turn waits this long at most (invokes are answered in 5 s)
logger = logging.getLogger(__name__)


def conversation_of(activity: Activity, email: str | None = None) -> Conversation | None:
    """What to store about the conversation an activity came from (``None`` if it names none)."""
    conversation = activity.conversation
    if conversation is None or not conversation.id or not activity.service_url:
        return None
    reference = activity.get_conversation_reference()
    kind = conversation.conversation_type or "personal"
    sender = activity.from_property
    personal = kind == "personal" and sender is not None
    team = _team_id(activity.channel_data)
    return Conversation(
        platform=PLATFORM,
        conversation_id=conversation.id,
        kind=kind,
        reference=reference.model_dump(mode="json", by_alias=True, exclude_none=True),
        user_id=sender.id if personal and sender else None,
        directory_id=sender.aad_object_id if personal and sender else None,
        tenant_id=conversation.tenant_id,
        team_id=team,
        locale=activity.locale,
        email=email if personal else None,
        tz=_zone(activity.local_timezone) if personal else None,
    )


def reference_of(conversation: Conversation) -> ConversationReference:
    return ConversationReference.model_validate(conversation.reference)


def known(activity: Activity, deps: TeamsDeps) -> bool:
    """Stored already by this process (with its member's e-mail, for a personal chat)."""
    conversation = activity.conversation
    key = (conversation.id if conversation else "", str(activity.service_url))
    return key in deps.remembered


async def member_email(context: TurnContext, deps: TeamsDeps) -> str | None:
    """The e-mail of the member of a personal chat (``None`` in channels, or when Teams is slow);
    the look-up is cached, so the handler that runs next does not repeat it."""
    conversation = context.activity.conversation
    if conversation is None or (conversation.conversation_type or "personal") != "personal":
        return None
    try:
        who = await asyncio.wait_for(people.member(context, deps), MEMBER_LOOKUP_SECONDS)
    except TimeoutError:
        logger.warning("Teams member look-up took over %.0f s; stored without e-mail",
                       MEMBER_LOOKUP_SECONDS)  # fmt: skip
        return None
    return who.email


async def remember(
    activity: Activity, deps: TeamsDeps, *, force: bool = False, email: str | None = None
) -> None:
    """Store the conversation once per process and service URL (Teams may move a conversation
    to another service URL; the newest one is the one to write to). A personal chat stored
    without its member's e-mail is stored again on the next turn, when the look-up may work."""
    found = conversation_of(activity, email)
    if found is None:
        return
    key = (found.conversation_id, str(activity.service_url))
    if key in deps.remembered and not force:
        return
    await deps.conversations.remember(found)
    if found.kind != "personal" or found.email:
        deps.remembered.add(key)


async def remember_turn(context: TurnContext, deps: TeamsDeps, *, force: bool = False) -> None:
    """Store the turn's conversation with its member's e-mail (install events, first use)."""
    await remember(context.activity, deps, force=force, email=await member_email(context, deps))


async def forget(activity: Activity, deps: TeamsDeps) -> None:
    conversation = activity.conversation
    if conversation is None or not conversation.id:
        return
    await deps.conversations.forget(platform=PLATFORM, conversation_id=conversation.id)
    deps.remembered = {k for k in deps.remembered if k[0] != conversation.id}


def _team_id(channel_data: Any) -> str | None:
    if channel_data is None:
        return None
    if isinstance(channel_data, dict):
        team = channel_data.get("team") or {}
        return team.get("id") if isinstance(team, dict) else None
    team = getattr(channel_data, "team", None)
    return getattr(team, "id", None)


def _zone(name: str | None) -> str | None:
    """An IANA zone Python knows (Teams sends e.g. ``Europe/Madrid``), else ``None``."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name
