"""outbox_recipients: every recipient of automatic mail, so the brakes count To and Cc alike

Revision ID: 0008_outbox_recipients
Revises: 0007_self_service
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008_outbox_recipients"
down_revision = "0007_self_service"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: The brakes look back one day at most: older rows need no recipient rows.
BACKFILL = timedelta(days=1)
#: The kinds the brakes counted when this revision was written (maildesk.policy.brakes).
BRAKED = ("ack", "agent_error", "reminder", "autoclosed")


def upgrade() -> None:
    op.create_table(
        "outbox_recipients",
        sa.Column("id", Id, nullable=False),
        sa.Column("outbox_id", Id, nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name="fk_outbox_recipients_outbox_id_outbox"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_recipients"),
    )
    op.create_index("ix_outbox_recipients_address_created", "outbox_recipients", ["address", "created_at"])
    _backfill(op.get_bind())


def _backfill(bind: sa.engine.Connection) -> None:
    """Recipient rows for the automatic mail of the last day, so an upgraded desk keeps counting."""
    since = datetime.now(UTC) - BACKFILL
    if bind.dialect.name == "sqlite":
        since = since.replace(tzinfo=None)  # how maildesk's UtcDateTime stores instants there
    outbox = sa.table("outbox", sa.column("id"), sa.column("kind"), sa.column("rcpt_to"),
                      sa.column("created_at"))
    recipients = sa.table("outbox_recipients", sa.column("outbox_id"), sa.column("address"),
                          sa.column("kind"), sa.column("created_at"))
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.kind, outbox.c.rcpt_to, outbox.c.created_at)
                        .where(outbox.c.created_at >= since)).all()
    values = [{"outbox_id": i, "address": str(a).lower(), "kind": kind, "created_at": at}
              for i, kind, rcpt, at in rows if kind in BRAKED or kind.startswith("status_")
              for a in (json.loads(rcpt) if isinstance(rcpt, str) else rcpt)]
    if values:
        bind.execute(recipients.insert(), values)


def downgrade() -> None:
    op.drop_index("ix_outbox_recipients_address_created", table_name="outbox_recipients")
    op.drop_table("outbox_recipients")
