"""ticket_rules: type, tags, tier and spam flag set by rules

Revision ID: 0003_ticket_rules
Revises: 0002_imap_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_ticket_rules"
down_revision = "0002_imap_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server_default fills existing rows; batch mode lets SQLite take the NOT NULL columns.
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("type", sa.String(length=16), nullable=False, server_default="request"))
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("tier", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("spam", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_tickets_spam_status", ["spam", "status"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_spam_status")
        batch.drop_column("spam")
        batch.drop_column("tier")
        batch.drop_column("tags")
        batch.drop_column("type")
