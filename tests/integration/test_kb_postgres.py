"""The knowledge base on PostgreSQL: the same articles found through its full-text index."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, write_config
from servers import Postgres, postgres_server  # noqa: F401

from maildesk import config
from maildesk.pipeline import kb
from maildesk.runtime.wiring import Runtime
from maildesk.store import migrate
from maildesk.store.db import Database


def test_kb_search_on_postgres(tmp_path: Path, postgres_server: Postgres) -> None:  # noqa: F811
    # Indexed and searched on PostgreSQL, "не працює принтер" finds the article "Принтер не друкує".
    extra = f'[database]\nurl = "{postgres_server.new_database()}"\n[kb]\npath = "{REPO / "examples" / "kb"}"\n'
    settings = config.load(write_config(tmp_path, extra))
    db = Database(settings.database.url)
    migrate.upgrade(db)
    runtime = Runtime.build(settings)
    report = kb.rebuild(runtime.db, settings.selfservice)
    assert report.total >= 36
    with runtime.db.reading() as session:
        uk = kb.suggest(session, settings.selfservice, "Не працює принтер", "Принтер у кабінеті 12 не друкує.", "en")
        en = kb.suggest(session, settings.selfservice, "VPN does not connect", "I cannot connect to the VPN.", "en")
        off = kb.suggest(session, settings.selfservice, "Lunch menu", "What is for lunch on Friday?", "en")
    assert uk and uk[0].url.endswith("/kb/uk/printer-not-printing")
    assert en and "/kb/en/" in en[0].url and "vpn" in en[0].url
    assert off == []
    runtime.db.dispose()
    db.dispose()
