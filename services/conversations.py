"""Where the bot may write without being asked: conversations remembered from install or first use.

A chat platform hands over an opaque reference (Teams: a ``ConversationReference``) that its
front-end needs to post into the conversation later, for progress and reminders. This service keeps
it per platform and conversation; it never looks inside the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import ChatConversation

Kind = Literal["personal", "channel", "groupChat"]


@dataclass(frozen=True)
class Conversation:
    platform: str
    conversation_id: str
    kind: str
    reference: dict[str, Any]
    user_id: str | None = None
    directory_id: str | None = None
    tenant_id: str | None = None
    team_id: str | None = None
    locale: str | None = None
    removed: bool = False
    email: str | None = None  # a personal chat's member (how reminders find them)
    tz: str | None = None  # their IANA time zone, when the platform says it


def _conversation(row: ChatConversation) -> Conversation:
    return Conversation(
        platform=row.platform,
        conversation_id=row.conversation_id,
        kind=row.kind,
        reference=dict(row.reference),
        user_id=row.user_id,
        directory_id=row.directory_id,
        tenant_id=row.tenant_id,
        team_id=row.team_id,
        locale=row.locale,
        removed=row.removed_at is not None,
        email=row.email,
        tz=row.tz,
    )


class Conversations:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def remember(self, conversation: Conversation) -> None:
        """Store or refresh a conversation; remembering a removed one brings it back."""
        values = {
            "kind": conversation.kind,
            "reference": conversation.reference,
            "user_id": conversation.user_id,
            "directory_id": conversation.directory_id,
            "tenant_id": conversation.tenant_id,
            "team_id": conversation.team_id,
            "locale": conversation.locale,
        }
        # An activity without them (a member look-up that failed) keeps what was stored before.
        if conversation.email:
            values["email"] = conversation.email.strip().casefold()
        if conversation.tz:
            values["tz"] = conversation.tz
        async with self.db.transaction() as session:
            await repo.upsert_conversation(
                session,
                platform=conversation.platform,
                conversation_id=conversation.conversation_id,
                values=values,
            )

    async def forget(self, *, platform: str, conversation_id: str) -> bool:
        """The app was removed from this conversation: stop writing there (kept for the record)."""
        async with self.db.transaction() as session:
            found = await repo.mark_conversation_removed(
                session, platform=platform, conversation_id=conversation_id
            )
        return found > 0

    async def get(self, *, platform: str, conversation_id: str) -> Conversation | None:
        async with self.db.transaction() as session:
            row = await repo.get_conversation(
                session, platform=platform, conversation_id=conversation_id
            )
        return _conversation(row) if row is not None else None

    async def personal(
        self, *, platform: str, user_id: str | None = None, directory_id: str | None = None
    ) -> Conversation | None:
        """The person's personal chat with the bot, if the app is installed there."""
        async with self.db.transaction() as session:
            row = await repo.personal_conversation(
                session, platform=platform, user_id=user_id, directory_id=directory_id
            )
        return _conversation(row) if row is not None else None

    async def personal_by_email(self, *, platform: str, email: str) -> Conversation | None:
        """The personal chat with the bot of the member with this e-mail (any case), if any."""
        async with self.db.transaction() as session:
            row = await repo.personal_conversation_by_email(
                session, platform=platform, email=email.strip().casefold()
            )
        return _conversation(row) if row is not None else None
