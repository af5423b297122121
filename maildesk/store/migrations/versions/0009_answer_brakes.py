"""answer_brakes: the client address of inbound mail, and what the brakes on answers count by

Revision ID: 0009_answer_brakes
Revises: 0008_outbox_recipients

`inbound.client_ip` is the address of the SMTP/LMTP peer that handed the mail over (NULL for IMAP,
the pipe and an import: none is known there). `outbox_recipients` gains the recipient's domain,
the client address of the mail answered and that mail's fingerprint, each indexed with the time,
so the brakes on answers (maildesk.policy.brakes) count by domain, by client and by fingerprint.
Rows written before this revision count by address only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_answer_brakes"
down_revision = "0008_outbox_recipients"
branch_labels = None
depends_on = None

COUNTED = ("domain", "client_ip", "fingerprint")


def upgrade() -> None:
    op.add_column("inbound", sa.Column("client_ip", sa.String(length=64), nullable=True))
    with op.batch_alter_table("outbox_recipients") as table:
        table.add_column(sa.Column("domain", sa.String(length=255), nullable=False, server_default=""))
        table.add_column(sa.Column("client_ip", sa.String(length=64), nullable=False, server_default=""))
        table.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=False, server_default=""))
    for column in COUNTED:
        op.create_index(f"ix_outbox_recipients_{column}_created", "outbox_recipients", [column, "created_at"])


def downgrade() -> None:
    for column in COUNTED:
        op.drop_index(f"ix_outbox_recipients_{column}_created", table_name="outbox_recipients")
    with op.batch_alter_table("outbox_recipients") as table:
        for column in COUNTED:
            table.drop_column(column)
    with op.batch_alter_table("inbound") as table:
        table.drop_column("client_ip")
