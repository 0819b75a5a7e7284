"""Conversation references kept from install or first use, for messages nobody asked for yet."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ConversationReference

from handlers.teams.deps import TeamsDeps
from services.conversations import Conversation

PLATFORM = "teams"


def conversation_of(activity: Activity) -> Conversation | None:
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
    )


def reference_of(conversation: Conversation) -> ConversationReference:
    return ConversationReference.model_validate(conversation.reference)


async def remember(activity: Activity, deps: TeamsDeps, *, force: bool = False) -> None:
    """Store the conversation once per process and service URL (Teams may move a conversation
    to another service URL; the newest one is the one to write to)."""
    found = conversation_of(activity)
    if found is None:
        return
    key = (found.conversation_id, str(activity.service_url))
    if key in deps.remembered and not force:
        return
    await deps.conversations.remember(found)
    deps.remembered.add(key)


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
