"""machine_mail: verdict reasons, outbox recipient index, undeliverable addresses, audit lines

Revision ID: 0004_machine_mail
Revises: 0003_ticket_rules
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_machine_mail"
down_revision = "0003_ticket_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound") as batch:
        batch.add_column(sa.Column("verdict_reasons", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("verdict_reasons", sa.JSON(), nullable=False, server_default="[]"))
    # The brakes count automatic mail per recipient and window; the first recipient is enough
    # because automatic mail has exactly one (RFC 3834 3.1.3).
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("recipient", sa.String(length=320), nullable=False, server_default=""))
        batch.create_index("ix_outbox_recipient_created", ["recipient", "created_at"])
    op.create_table(
        "undeliverable",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_undeliverable"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("inbound_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("undeliverable")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_recipient_created")
        batch.drop_column("recipient")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("verdict_reasons")
    with op.batch_alter_table("inbound") as batch:
        batch.drop_column("verdict_reasons")
