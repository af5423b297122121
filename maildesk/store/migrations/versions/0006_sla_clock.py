"""sla_clock: SLA due times, the pending clock, escalation marks and the sweep's next check

Revision ID: 0006_sla_clock
Revises: 0005_imap_lease
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sla_clock"
down_revision = "0005_imap_lease"
branch_labels = None
depends_on = None

_WHEN = ("first_response_due", "resolution_due", "first_response_at", "resolved_at", "waiting_since",
         "next_check_at")


def upgrade() -> None:
    # Existing tickets start with an empty clock: clock_status "" makes the next change of any
    # ticket set it up, and NULL next_check_at keeps them out of the sweep until then.
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("sla_policy", sa.String(length=64), nullable=False, server_default=""))
        for name in _WHEN:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("clock_status", sa.String(length=16), nullable=False, server_default=""))
        batch.add_column(sa.Column("sla_sent", sa.String(length=128), nullable=False, server_default=""))
        batch.add_column(sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_tickets_next_check", ["next_check_at"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_next_check")
        for name in ("reminders_sent", "sla_sent", "clock_status", "paused_seconds", *reversed(_WHEN),
                     "sla_policy"):
            batch.drop_column(name)
