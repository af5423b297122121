"""The schema the migrations build is the schema the models declare: a column or an index added to
one and forgotten in the other fails here (the full-text tables, which only migrations make, aside)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy.schema import CreateIndex

from maildesk.store import migrate
from maildesk.store.db import Database
from maildesk.store.models import Base


def _not_full_text(difference: Any) -> bool:
    # SQLite's FTS5 tables (and their shadow tables) exist only in the migrations, on purpose.
    return not (isinstance(difference, tuple) and difference[0] == "remove_table" and "_fts" in difference[1].name)


# SQLite cannot reflect an index on an expression, so the comparison leaves those out (both sides
# warn); the next test holds them together.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_the_migrated_sqlite_schema_equals_the_models(tmp_path: Path) -> None:
    # A fresh database upgraded to the head revision has every table, column and index of the models.
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    try:
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        db.dispose()
    assert [d for d in differences if _not_full_text(d)] == []


def test_the_migrated_expression_indexes_are_the_models_word_for_word(tmp_path: Path) -> None:
    # The report's duration indexes (migration 0011) and its created tickets' groups (0012): SQLite uses
    # an index on an expression only for the very expression.
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    try:
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            made = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'").all())
        declared = {i.name: str(CreateIndex(i).compile(dialect=db.engine.dialect)).strip()
                    for i in Base.metadata.tables["tickets"].indexes
                    if not all(isinstance(e, Column) for e in i.expressions)}
    finally:
        db.dispose()
    assert set(declared) == {"ix_tickets_first_response_s", "ix_tickets_agent_first_response_s",
                             "ix_tickets_resolution_s", "ix_tickets_opened"}
    assert {name: made.get(name) for name in declared} == declared
