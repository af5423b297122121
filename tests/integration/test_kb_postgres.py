"""The knowledge base on PostgreSQL: the same articles found through its full-text index."""

from __future__ import annotations

from conftest import REPO, DeskFactory
from servers import Postgres, postgres_server  # noqa: F401

from maildesk.pipeline import kb


def test_kb_search_on_postgres(make_desk: DeskFactory, postgres_server: Postgres) -> None:  # noqa: F811
    # Indexed and searched on PostgreSQL, "не працює принтер" finds the article "Принтер не друкує".
    extra = f'[database]\nurl = "{postgres_server.new_database()}"\n[kb]\npath = "{REPO / "examples" / "kb"}"\n'
    runtime = make_desk(extra)
    settings = runtime.settings
    report = kb.rebuild(runtime.db, settings.selfservice)
    assert report.total >= 36
    with runtime.db.reading() as session:
        uk = kb.suggest(session, settings.selfservice, "Не працює принтер", "Принтер у кабінеті 12 не друкує.", "en")
        en = kb.suggest(session, settings.selfservice, "VPN does not connect", "I cannot connect to the VPN.", "en")
        off = kb.suggest(session, settings.selfservice, "Lunch menu", "What is for lunch on Friday?", "en")
    assert uk and uk[0].url.endswith("/kb/uk/printer-not-printing")
    assert en and "/kb/en/" in en[0].url and "vpn" in en[0].url
    assert off == []
