"""report_durations: the durations `maildesk report` ranks, each held in order by an index

Revision ID: 0011_report_durations
Revises: 0010_ticket_queries

A percentile of the seconds to the first response or to the resolution over a period is one row:
the k-th smallest. Without an index every such figure sorts the period's tickets, about 1–2 s per
figure at 1,000,000 tickets on either backend (docs/performance.md). With the duration as the
index's leading expression the report walks it in order and stops at rank k; the index also
carries `spam`, `created_at` and the instant the duration ends at, so a walk tests the period and
reads the duration without reading a ticket row (PostgreSQL answers from an index alone only when
the columns of the expression are in it). One index per figure the report ranks: the first response
(the desk's and each week's), the first response per assignee (leading the index, so one agent's
durations are one contiguous run), the resolution.

Each expression is `store.spans.seconds_between`, the one the report's queries compile to: a
database uses an index on an expression only for the same expression.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import column

from maildesk.store.spans import seconds_between

revision = "0011_report_durations"
down_revision = "0010_ticket_queries"
branch_labels = None
depends_on = None

#: (name, leading column or None, the instant the duration ends at).
DURATIONS = (
    ("ix_tickets_first_response_s", None, "first_response_at"),
    ("ix_tickets_agent_first_response_s", "assignee_id", "first_response_at"),
    ("ix_tickets_resolution_s", None, "resolved_at"),
)


def upgrade() -> None:
    for name, lead, end in DURATIONS:
        duration = seconds_between(column(end), column("created_at"))
        op.create_index(name, "tickets", [*([column(lead)] if lead else []), duration,
                                          column("spam"), column("created_at"), column(end)])


def downgrade() -> None:
    for name, _, _ in DURATIONS:
        op.drop_index(name, table_name="tickets")
