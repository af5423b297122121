"""report_covering: the closures of a period, the open tickets and (on SQLite) the created tickets by
group, each read from one index alone

Revision ID: 0012_report_covering
Revises: 0011_report_durations

`maildesk report` groups the tickets closed in its period by assignee and reason, and the open
tickets by status, age and assignee. Through `ix_tickets_closed` (closed_at) and
`ix_tickets_spam_status` (spam, status) each ticket found was then read from the table, one page
here and one there: at 1,000,000 tickets on SQLite 1.2–1.4 s for 495,000 closures and 0.5 s for
307,000 open tickets (docs/performance.md). Both indexes now carry what those statements read, so
the database answers from the index alone: 0.3 s and 0.14 s. The columns they had stay in front, so
every statement that used them still can.

On SQLite only, `ix_tickets_opened` holds the tickets in the order the report groups the created
ones (UTC date, queue, category, priority, settled SLA outcome: `store.outcomes.opened_groups`, the
expressions the report compiles) with every column that scan reads. SQLite groups only by sorting;
with this index it reads a million tickets' groups in order, without a sort (1.5 → 0.3 s).
PostgreSQL hashes its groups and does not get the index. A later migration that rebuilds `tickets`
on SQLite (batch_alter_table) must create it again, and 0011's duration indexes: SQLite cannot
reflect an index on an expression, so the rebuilt table would come without them.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import column, table

from maildesk.store.outcomes import opened_groups

revision = "0012_report_covering"
down_revision = "0011_report_durations"
branch_labels = None
depends_on = None

#: (name, columns before, columns after): the first columns are the same, the rest are carried.
WIDENED = (
    ("ix_tickets_closed", ["closed_at"], ["closed_at", "spam", "assignee_id", "close_reason"]),
    ("ix_tickets_spam_status", ["spam", "status"], ["spam", "status", "created_at", "assignee_id"]),
)


#: The columns `opened_groups` reads.
OPENED_COLUMNS = ("created_at", "queue", "category", "priority", "spam", "first_response_due",
                  "first_response_at", "resolution_due", "resolved_at")


def upgrade() -> None:
    for name, _, after in WIDENED:
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", after)
    if op.get_bind().dialect.name == "sqlite":
        tickets = table("tickets", *(column(name) for name in OPENED_COLUMNS))
        op.create_index("ix_tickets_opened", "tickets", opened_groups(tickets.c))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_tickets_opened", table_name="tickets")
    for name, before, _ in WIDENED:
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", before)
