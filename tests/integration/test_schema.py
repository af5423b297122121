"""The schema the migrations build is the schema the models declare: a column or an index added to
one and forgotten in the other fails here (the full-text tables, which only migrations make, aside)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from maildesk.store import migrate
from maildesk.store.db import Database
from maildesk.store.models import Base


def _not_full_text(difference: Any) -> bool:
    # SQLite's FTS5 tables (and their shadow tables) exist only in the migrations, on purpose.
    return not (isinstance(difference, tuple) and difference[0] == "remove_table" and "_fts" in difference[1].name)


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
