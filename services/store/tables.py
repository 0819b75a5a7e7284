"""ORM tables: drafts, onboardings, step runs, audit events, reminder schedules, chat
conversations, webhook state.

Tables only; the pydantic shapes of the same data live with the services that use them.
Datetimes are timezone-aware UTC on PostgreSQL and stored as UTC on SQLite.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Always hands back aware UTC datetimes, also from SQLite, which keeps no time zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime,
    }


class Draft(Base):
    """Answers so far, saved after every page so closing a form loses nothing."""

    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(255))  # a chat user id; Teams' are long
    company_id: Mapped[int | None] = mapped_column(Integer)
    company_name: Mapped[str | None] = mapped_column(String(100))
    page: Mapped[str] = mapped_column(String(32), default="client")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_drafts_owner", "platform", "user_id"),)


class Onboarding(Base):
    """One client's onboarding: the validated request, its plan as step runs, and its state."""

    __tablename__ = "onboardings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    draft_id: Mapped[str | None] = mapped_column(String(32))
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    company_name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(255))
    requester_resource_id: Mapped[int | None] = mapped_column(Integer)
    request: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    # A new value at every claim: writes and step records check it, so a run whose lease was
    # taken over stops instead of writing next to the new holder (fencing).
    lease_token: Mapped[str | None] = mapped_column(String(32))
    # Automatic resumes after an interruption (a crash, a drained replica); reset by a Retry.
    pickups: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    steps: Mapped[list[StepRun]] = relationship(
        back_populates="onboarding", order_by="StepRun.position", cascade="all, delete-orphan"
    )


class StepRun(Base):
    __tablename__ = "step_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    onboarding_id: Mapped[str] = mapped_column(ForeignKey("onboardings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[dict[str, Any]] = mapped_column()
    diff: Mapped[list[Any]] = mapped_column(default=list)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    onboarding: Mapped[Onboarding] = relationship(back_populates="steps")

    __table_args__ = (Index("ux_step_runs_key", "onboarding_id", "key", unique=True),)


class AuditEvent(Base):
    """Who changed what in Autotask, and when: one row per write and per run transition."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    onboarding_id: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReminderSchedule(Base):
    """A billing administrator's pending invoice setup, nudged until Autotask shows it complete."""

    __tablename__ = "reminder_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    onboarding_id: Mapped[str] = mapped_column(ForeignKey("onboardings.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(Integer)
    recipient_resource_id: Mapped[int | None] = mapped_column(Integer)
    recipient_email: Mapped[str] = mapped_column(String(254))
    platform_user_id: Mapped[str | None] = mapped_column(String(255))
    # the chat platform platform_user_id is on ("slack", "teams"); None: from before Teams (Slack)
    platform: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    next_at: Mapped[datetime] = mapped_column(index=True)
    nudges: Mapped[int] = mapped_column(Integer, default=0)
    todo_id: Mapped[int | None] = mapped_column(Integer)
    message_ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    missing: Mapped[list[Any]] = mapped_column(default=list)
    company_name: Mapped[str] = mapped_column(String(100), default="")
    tz: Mapped[str | None] = mapped_column(String(64))
    requester_id: Mapped[str | None] = mapped_column(String(255))
    # The nudge being sent: set before the chat call, cleared after, so a crash in between is seen
    sending_nudge: Mapped[int | None] = mapped_column(Integer)
    # Set by each claim (a sweep, a start, a hand-over): a nudge is sent only under its claim
    claim_token: Mapped[str | None] = mapped_column(String(32))
    escalated_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChatConversation(Base):
    """Where the bot can write later without being asked: a chat platform's conversation
    reference (opaque to us), kept from install or first use for proactive messages."""

    __tablename__ = "chat_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(16))  # personal, channel, groupChat
    user_id: Mapped[str | None] = mapped_column(String(255))  # the person, for a personal chat
    directory_id: Mapped[str | None] = mapped_column(String(64))  # e.g. the Entra object id
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(400))
    locale: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))  # a personal chat's member, lower case
    tz: Mapped[str | None] = mapped_column(String(64))  # IANA zone, when the platform says it
    reference: Mapped[dict[str, Any]] = mapped_column()
    removed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ux_chat_conversations_id", "platform", "conversation_id", unique=True),
        Index("ix_chat_conversations_user", "platform", "user_id"),
        Index("ix_chat_conversations_directory", "platform", "directory_id"),
        Index("ix_chat_conversations_email", "platform", "email"),
    )


class WebhookState(Base):
    """This installation's Autotask company webhook as last synced, and the signs of its health.

    Shared by every replica: whichever one receives a callout or the deactivation notice records
    it here, and every replica's safety-net sweep paces itself on it.
    """

    __tablename__ = "autotask_webhooks"

    name: Mapped[str] = mapped_column(
        String(50), primary_key=True
    )  # the webhook's name in Autotask
    webhook_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="missing")
    fields: Mapped[list[Any]] = mapped_column(default=list)  # Companies fields it watches
    unsupported: Mapped[list[Any]] = mapped_column(default=list)  # needed, but not offered
    synced_at: Mapped[datetime | None] = mapped_column()
    last_callback_at: Mapped[datetime | None] = mapped_column()
    deactivated_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobRun(Base):
    """When a job the replicas share last ran; claiming it makes it run once per interval overall."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column()


class DeviceFollowUp(Base):
    """A managed onboarding's watch over its company's devices that are not on the contract yet:
    swept until the rollout is complete, a quiet period passes, or the contract ends."""

    __tablename__ = "device_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    onboarding_id: Mapped[str] = mapped_column(ForeignKey("onboardings.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    company_name: Mapped[str] = mapped_column(String(100), default="")
    contract_id: Mapped[int] = mapped_column(Integer)
    contract_name: Mapped[str] = mapped_column(String(100), default="")
    contract_end: Mapped[datetime | None] = mapped_column()
    sla: Mapped[int | None] = mapped_column(Integer)
    # whom offers go to: the requester, or (a terminal onboarding) the account manager by e-mail
    recipient_user_id: Mapped[str | None] = mapped_column(String(255))
    recipient_platform: Mapped[str | None] = mapped_column(String(16))
    manager_email: Mapped[str | None] = mapped_column(String(254))  # the account manager's
    requester_id: Mapped[str] = mapped_column(String(255))
    requester_platform: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    tz: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    next_at: Mapped[datetime] = mapped_column(index=True)  # next sweep (or end of a snooze)
    snoozed_until: Mapped[datetime | None] = mapped_column()
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_new_at: Mapped[datetime] = mapped_column()  # the quiet period counts from here
    ended_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeviceOffer(Base):
    """One DM: the devices one sweep found, their suggestions, and what became of them."""

    __tablename__ = "device_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("device_followups.id", ondelete="CASCADE"),
                                             index=True)  # fmt: skip
    state: Mapped[str] = mapped_column(String(16), default="offered")
    message_ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attach_onboarding_id: Mapped[str | None] = mapped_column(String(32))  # the "devices" run
    acted_by: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OfferedDevice(Base):
    """A configuration item offered once per follow-up (the unique index is the "once")."""

    __tablename__ = "offered_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("device_followups.id", ondelete="CASCADE"))
    # None: it was already there, off the contract, when the onboarding was applied (the form
    # offered it then), so the follow-up never offers it
    offer_id: Mapped[int | None] = mapped_column(
        ForeignKey("device_offers.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str | None] = mapped_column(String(64))  # its configuration item type's label
    suggested_service_id: Mapped[int | None] = mapped_column(Integer)
    # existing | offered -> attached | skipped (other contract, gone, left out in Review) |
    # not_managed
    state: Mapped[str] = mapped_column(String(16), default="offered")

    __table_args__ = (Index("ux_offered_devices_device", "followup_id", "device_id", unique=True),)
