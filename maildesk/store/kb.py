"""The knowledge-base index: one row per article, searched by full text. Plain values in and out.

The rows hold stems made by maildesk.policy.kb.text, never raw words, so the database only matches
whole tokens: SQLite through the FTS5 table ``kb_fts`` (rowid = article id, ``unicode61``),
PostgreSQL through a GIN index on ``to_tsvector('simple', …)``. Both only pick candidates; the
ranking and the relevance threshold are the pure scorer's, so both backends suggest alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.orm import Session

from maildesk.store.models import KbArticle

_kb = cast(Table, KbArticle.__table__)
#: At most this many articles come back from the full-text index for the scorer to rank.
CANDIDATES = 30


@dataclass(frozen=True)
class KbEntry:
    """One article's row: stems are space-separated."""

    language: str
    slug: str
    title: str
    url: str
    tags: tuple[str, ...]
    title_stems: str
    tag_stems: str
    body_stems: str


_NAMES = tuple(f.name for f in fields(KbEntry))
_ENTRY = tuple(_kb.c[name] for name in _NAMES)


def replace_index(session: Session, entries: Sequence[KbEntry]) -> None:
    """Make the index hold exactly `entries` (in this transaction)."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    conn.execute(delete(_kb))
    if sqlite:
        conn.execute(text("DELETE FROM kb_fts"))
    for e in entries:
        values = {f.name: getattr(e, f.name) for f in fields(KbEntry)} | {"tags": list(e.tags)}
        article_id = conn.execute(insert(_kb).returning(_kb.c.id), values).scalar_one()
        if sqlite:
            conn.execute(text("INSERT INTO kb_fts (rowid, stems) VALUES (:id, :stems)"),
                         {"id": article_id, "stems": " ".join((e.title_stems, e.tag_stems, e.body_stems))})


def candidates(session: Session, language: str, terms: Sequence[str]) -> list[KbEntry]:
    """Articles in `language` sharing at least one of `terms`, best full-text rank first."""
    if not terms:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        ids = session.execute(text(
            "SELECT a.id FROM kb_fts JOIN kb_articles a ON a.id = kb_fts.rowid "
            "WHERE kb_fts MATCH :match AND a.language = :language ORDER BY bm25(kb_fts) LIMIT :n"),
            {"match": match, "language": language, "n": CANDIDATES}).scalars().all()
    elif dialect == "postgresql":
        query = " | ".join("'" + t.replace("'", "''").replace("\\", "") + "'" for t in terms)
        ids = session.execute(text(
            f"SELECT id FROM kb_articles WHERE language = :language AND {_PG_VECTOR} @@ "
            f"to_tsquery('simple', :query) ORDER BY ts_rank({_PG_VECTOR}, to_tsquery('simple', :query)) "
            "DESC LIMIT :n"), {"query": query, "language": language, "n": CANDIDATES}).scalars().all()
    else:  # Any other database: the knowledge base is small, let the scorer read it all.
        ids = session.execute(select(_kb.c.id).where(_kb.c.language == language)).scalars().all()
    rows = session.connection().execute(select(_kb.c.id, *_ENTRY).where(_kb.c.id.in_(ids))).all()
    order = {article_id: i for i, article_id in enumerate(ids)}
    return [_entry(r[1:]) for r in sorted(rows, key=lambda r: order[r[0]])]


#: The expression the PostgreSQL GIN index of migration 0007 is built on; queries must repeat it.
_PG_VECTOR = "to_tsvector('simple', title_stems || ' ' || tag_stems || ' ' || body_stems)"


def articles(session: Session, language: str | None = None) -> list[KbEntry]:
    """Every indexed article (of `language` when given), by language and slug."""
    query = select(*_ENTRY).order_by(_kb.c.language, _kb.c.slug)
    if language is not None:
        query = query.where(_kb.c.language == language)
    return [_entry(r) for r in session.connection().execute(query)]


def _entry(row: Sequence[Any]) -> KbEntry:
    values = dict(zip(_NAMES, row, strict=True))
    return KbEntry(**values | {"tags": tuple(values["tags"] or ())})
