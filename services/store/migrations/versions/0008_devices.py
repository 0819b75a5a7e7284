"""devices: device follow-ups of managed onboardings, their offers and the devices offered

Revision ID: 0008_devices
Revises: 0007_teams_ids
Create Date: 2026-12-03 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.store.tables

revision: str = "0008_devices"
down_revision: str | None = "0007_teams_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = services.store.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "device_followups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("onboarding_id", sa.String(32),
                  sa.ForeignKey("onboardings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("company_name", sa.String(100), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("contract_name", sa.String(100), nullable=False),
        sa.Column("contract_end", WHEN, nullable=True),
        sa.Column("sla", sa.Integer(), nullable=True),
        sa.Column("recipient_user_id", sa.String(255), nullable=True),
        sa.Column("recipient_platform", sa.String(16), nullable=True),
        sa.Column("manager_email", sa.String(254), nullable=True),
        sa.Column("requester_id", sa.String(255), nullable=False),
        sa.Column("requester_platform", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("tz", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("next_at", WHEN, nullable=False),
        sa.Column("snoozed_until", WHEN, nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("last_new_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )  # fmt: skip
    op.create_index("ix_device_followups_company_id", "device_followups", ["company_id"])
    op.create_index("ix_device_followups_status", "device_followups", ["status"])
    op.create_index("ix_device_followups_next_at", "device_followups", ["next_at"])
    op.create_table(
        "device_offers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("followup_id", sa.Integer(),
                  sa.ForeignKey("device_followups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message_ref", sa.JSON(), nullable=False),
        sa.Column("attach_onboarding_id", sa.String(32), nullable=True),
        sa.Column("acted_by", sa.String(255), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )  # fmt: skip
    op.create_index("ix_device_offers_followup_id", "device_offers", ["followup_id"])
    op.create_table(
        "offered_devices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("followup_id", sa.Integer(),
                  sa.ForeignKey("device_followups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("offer_id", sa.Integer(),
                  sa.ForeignKey("device_offers.id", ondelete="CASCADE"), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=True),
        sa.Column("suggested_service_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
    )  # fmt: skip
    op.create_index("ix_offered_devices_offer_id", "offered_devices", ["offer_id"])
    op.create_index("ux_offered_devices_device", "offered_devices", ["followup_id", "device_id"],
                    unique=True)  # fmt: skip


def downgrade() -> None:
    op.drop_table("offered_devices")
    op.drop_table("device_offers")
    op.drop_table("device_followups")
