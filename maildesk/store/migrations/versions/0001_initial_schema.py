"""initial schema

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite needs INTEGER (not BIGINT) for a rowid alias; PostgreSQL gets BIGINT.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", ID, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("email", name=op.f("uq_agents_email")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", ID, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("email", name=op.f("uq_contacts_email")),
    )
    op.create_table(
        "kv",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kv")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("requester_id", ID, nullable=False),
        sa.Column("assignee_id", ID, nullable=True),
        sa.Column("linked_ticket_id", ID, nullable=True),
        sa.Column("close_reason", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assignee_id"], ["agents.id"], name=op.f("fk_tickets_assignee_id_agents")),
        sa.ForeignKeyConstraint(
            ["linked_ticket_id"], ["tickets.id"], name=op.f("fk_tickets_linked_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["contacts.id"], name=op.f("fk_tickets_requester_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_requester", ["requester_id"], unique=False)
        batch_op.create_index("ix_tickets_status_updated", ["status", "updated_at"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_events_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_ticket", ["ticket_id", "at"], unique=False)

    op.create_table(
        "inbound",
        sa.Column("id", ID, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("mail_from", sa.String(length=512), nullable=True),
        sa.Column("rcpt_to", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_inbound_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound")),
        sa.UniqueConstraint("sha256", name=op.f("uq_inbound_sha256")),
    )
    with op.batch_alter_table("inbound", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_message_id", ["message_id"], unique=False)
        batch_op.create_index("ix_inbound_state_received", ["state", "received_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("mail_from", sa.String(length=320), nullable=False),
        sa.Column("rcpt_to", sa.JSON(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_outbox_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_state_next", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "participants",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_participants_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_participants_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("ticket_id", "contact_id", name=op.f("uq_participants_ticket_id_contact_id")),
    )
    op.create_table(
        "messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("inbound_id", ID, nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("from_email", sa.String(length=320), nullable=False),
        sa.Column("from_name", sa.String(length=256), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("new_text", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound.id"], name=op.f("fk_messages_inbound_id_inbound")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_messages_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("inbound_id", name=op.f("uq_messages_inbound_id")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_message_id", ["message_id"], unique=False)
        batch_op.create_index("ix_messages_ticket", ["ticket_id", "created_at"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attachments_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_message_id"), ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_message_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_ticket")
        batch_op.drop_index("ix_messages_message_id")

    op.drop_table("messages")
    op.drop_table("participants")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_ticket_id"))
        batch_op.drop_index("ix_outbox_state_next")

    op.drop_table("outbox")
    with op.batch_alter_table("inbound", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_state_received")
        batch_op.drop_index("ix_inbound_message_id")

    op.drop_table("inbound")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_ticket")

    op.drop_table("events")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_status_updated")
        batch_op.drop_index("ix_tickets_requester")

    op.drop_table("tickets")
    op.drop_table("kv")
    op.drop_table("contacts")
    op.drop_table("agents")
