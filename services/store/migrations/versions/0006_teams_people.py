"""teams people: a personal chat's member e-mail and time zone; the platform of a reminder

Revision ID: 0006_teams_people
Revises: 0005_run_fencing
Create Date: 2026-12-02 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_teams_people"
down_revision: str | None = "0005_run_fencing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_conversations") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("tz", sa.String(length=64), nullable=True))
        batch.create_index("ix_chat_conversations_email", ["platform", "email"], unique=False)
    with op.batch_alter_table("reminder_schedules") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=16), nullable=True))
        # Teams user ids ("29:1...") are longer than Slack's
        batch.alter_column("platform_user_id", existing_type=sa.String(length=64),
                           type_=sa.String(length=128), existing_nullable=True)  # fmt: skip
        batch.alter_column("requester_id", existing_type=sa.String(length=64),
                           type_=sa.String(length=128), existing_nullable=True)  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("reminder_schedules") as batch:
        batch.alter_column("requester_id", existing_type=sa.String(length=128),
                           type_=sa.String(length=64), existing_nullable=True)  # fmt: skip
        batch.alter_column("platform_user_id", existing_type=sa.String(length=128),
                           type_=sa.String(length=64), existing_nullable=True)  # fmt: skip
        batch.drop_column("platform")
    with op.batch_alter_table("chat_conversations") as batch:
        batch.drop_index("ix_chat_conversations_email")
        batch.drop_column("tz")
        batch.drop_column("email")
