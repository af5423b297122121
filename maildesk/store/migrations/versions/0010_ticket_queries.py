"""ticket_queries: the indexes `tickets list` filters by and `report` reads a period by, and a
full-text index of ticket text

Revision ID: 0010_ticket_queries
Revises: 0009_answer_brakes

At 1,000,000 tickets a filter without an index reads the whole table. Each filter of `tickets list`
gets the index it needs, on the one column alone: on SQLite an index entry ends with the rowid, so
the rows of one value come out in ticket order (the list's newest first) and the list stops after
its limit without a sort. The list no longer filters "not spam" through an index (store/reads.py).
`maildesk report` reads a period by `created_at` and `closed_at`, and the ratings by the events' kind
and time: a month of a large desk is then a range, not the whole table.

`--text` matches part of a word, case-insensitively (`lower(…) LIKE '%…%'`, as before this revision);
a word index would change what it finds, so both backends index trigrams instead:
- SQLite: FTS5 tables with the `trigram` tokenizer over `tickets.subject` and `messages.text`
  (external content: rowid = the row's id, no second copy of the text). Triggers keep them in step
  with every write, whoever writes; the upgrade fills them for the rows already there (`rebuild`).
  A later migration that rebuilds `tickets` or `messages` (batch_alter_table) must create the
  triggers again.
- PostgreSQL: GIN indexes with `gin_trgm_ops` (pg_trgm, a trusted extension since PostgreSQL 13: the
  database's owner may create it) on `lower(subject)` and `lower(text)`; the planner uses them for
  the same LIKE, and builds them over the rows already there.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0010_ticket_queries"
down_revision = "0009_answer_brakes"
branch_labels = None
depends_on = None

#: (name, columns) of the plain indexes on tickets.
INDEXES = (
    ("ix_tickets_status", ["status"]),
    ("ix_tickets_category", ["category"]),
    ("ix_tickets_type", ["type"]),
    ("ix_tickets_assignee", ["assignee_id"]),
    ("ix_tickets_created", ["created_at"]),
    ("ix_tickets_closed", ["closed_at"]),
)
#: (name, columns) of the indexes on events.
EVENT_INDEXES = (("ix_events_kind_at", ["kind", "at"]),)
#: Partial indexes: (name, column, condition). Must match maildesk.store.reads (_due_before, BREACHED),
#: word for word, or the databases will not use them.
PARTIAL = (
    ("ix_tickets_first_response_open", "first_response_due", "first_response_at IS NULL"),
    ("ix_tickets_resolution_open", "resolution_due", "resolved_at IS NULL"),
    ("ix_tickets_breached", "id", "sla_sent LIKE '%.breach%' OR first_response_at > first_response_due "
                                  "OR resolved_at > resolution_due"),
)
#: (FTS table, content table, column) on SQLite.
FTS = (("ticket_fts", "tickets", "subject"), ("message_fts", "messages", "text"))


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "tickets", columns)
    for name, columns in EVENT_INDEXES:
        op.create_index(name, "events", columns)
    for name, column, condition in PARTIAL:
        op.create_index(name, "tickets", [column], sqlite_where=text(condition),
                        postgresql_where=text(condition))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for fts, table, column in FTS:
            _sqlite_fts(fts, table, column)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for _, table, column in FTS:
            op.execute(f"CREATE INDEX ix_{table}_{column}_trgm ON {table} "
                       f"USING GIN (lower({column}) gin_trgm_ops)")


def _sqlite_fts(fts: str, table: str, column: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', content_rowid='id', "
               "tokenize='trigram')")
    add = f"INSERT INTO {fts} (rowid, {column}) VALUES (new.id, new.{column});"
    drop = f"INSERT INTO {fts} ({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {drop} END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table} BEGIN {drop} {add} END")
    op.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for fts, _, _ in FTS:
            for when in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {fts}_{when}")
            op.execute(f"DROP TABLE {fts}")
    elif dialect == "postgresql":
        for _, table, column in FTS:
            op.drop_index(f"ix_{table}_{column}_trgm", table_name=table)
    for name, _, _ in PARTIAL:
        op.drop_index(name, table_name="tickets")
    for name, _ in INDEXES:
        op.drop_index(name, table_name="tickets")
    for name, _ in EVENT_INDEXES:
        op.drop_index(name, table_name="events")
