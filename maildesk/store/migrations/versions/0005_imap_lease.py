"""imap_lease: one fetching process per IMAP account, across machines

Revision ID: 0005_imap_lease
Revises: 0004_machine_mail
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_imap_lease"
down_revision = "0004_machine_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imap_lease",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("leased_by", sa.String(length=255), nullable=False, server_default=""),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_imap_lease")),
    )


def downgrade() -> None:
    op.drop_table("imap_lease")
