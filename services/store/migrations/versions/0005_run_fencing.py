"""run lease tokens, automatic resume count, reminder claim tokens

Revision ID: 0005_run_fencing
Revises: 0004
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_run_fencing"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("onboardings") as batch:
        batch.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("pickups", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("reminder_schedules") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminder_schedules") as batch:
        batch.drop_column("claim_token")
    with op.batch_alter_table("onboardings") as batch:
        batch.drop_column("pickups")
        batch.drop_column("lease_token")
