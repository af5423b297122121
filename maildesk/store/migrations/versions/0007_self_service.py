"""self_service: the knowledge-base index and third parties on tickets

Revision ID: 0007_self_service
Revises: 0006_sla_clock
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_self_service"
down_revision = "0006_sla_clock"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Must match maildesk.store.kb._PG_VECTOR, or PostgreSQL will not use the index.
PG_VECTOR = "to_tsvector('simple', title_stems || ' ' || tag_stems || ' ' || body_stems)"


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", Id, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("title_stems", sa.Text(), nullable=False),
        sa.Column("tag_stems", sa.Text(), nullable=False),
        sa.Column("body_stems", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_articles"),
    )
    op.create_index("uq_kb_articles_language_slug", "kb_articles", ["language", "slug"], unique=True)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Stems are stored already; the tokenizer only needs to split on spaces and fold case.
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(stems, tokenize = 'unicode61')")
    elif bind.dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_kb_articles_fts ON kb_articles USING GIN ({PG_VECTOR})")
    op.create_table(
        "third_parties",
        sa.Column("id", Id, nullable=False),
        sa.Column("ticket_id", Id, sa.ForeignKey("tickets.id", name="fk_third_parties_ticket_id_tickets"),
                  nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_third_parties"),
    )
    op.create_index("ix_third_parties_ticket_id", "third_parties", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_third_parties_ticket_id", table_name="third_parties")
    op.drop_table("third_parties")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE kb_fts")
    op.drop_index("uq_kb_articles_language_slug", table_name="kb_articles")
    op.drop_table("kb_articles")
