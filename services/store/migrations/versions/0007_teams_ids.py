"""teams ids: every column holding a chat user id widened to 255 characters

Teams user ids (``29:1...``) are often over 100 characters; Slack's are about 11. SQLite ignores
the length, PostgreSQL refuses a longer value.

Revision ID: 0007_teams_ids
Revises: 0006_teams_people
Create Date: 2026-12-02 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_teams_ids"
down_revision: str | None = "0006_teams_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDE = 255
# (table, column, length before, nullable)
COLUMNS = [
    ("drafts", "user_id", 64, False),
    ("onboardings", "requested_by", 64, False),
    ("audit_events", "actor", 64, False),
    ("reminder_schedules", "platform_user_id", 128, True),
    ("reminder_schedules", "requester_id", 128, True),
    ("chat_conversations", "user_id", 128, True),
]


def upgrade() -> None:
    for table, column, before, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=before),
                               type_=sa.String(length=WIDE), existing_nullable=nullable)  # fmt: skip


def downgrade() -> None:
    for table, column, before, nullable in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=WIDE),
                               type_=sa.String(length=before), existing_nullable=nullable)  # fmt: skip
