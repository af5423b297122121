"""The `--text` condition of `tickets list`: the text in a ticket's subject or in any of its messages,
case-insensitively, as `lower(…) LIKE '%text%'` has always read it, answered from an index.

PostgreSQL answers that LIKE from the trigram GIN indexes of migration 0010 by itself. SQLite's
trigram FTS5 tables (`ticket_fts`, `message_fts`, same migration) give the rows that may match (a
superset: they fold case beyond ASCII too), and the same LIKE then keeps exactly the rows it always
kept. How to read them depends on how many rows match, which a bounded probe tells:
- few (a rare word): the index's rows, then their tickets, sorted; the cost grows with the matches;
- many (a common word): the newest tickets, one by one, until the list is full, each checked by
  its own few messages; the cost grows with the tickets read before the list is full, which is
  about limit × tickets / matches, small exactly when the matches are many.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, literal_column, or_, select, text

from maildesk.store import sql
from maildesk.store.db import Session

_t, _m = sql.tickets, sql.messages
#: The trigram index answers a pattern of at least three characters; shorter text walks the tickets.
FTS_MIN = 3
#: Up to this many candidate rows in a trigram table, read the index; beyond, walk the newest
#: tickets (see the module docstring: at 1,000,000 tickets both ways cost about the same here).
FEW = 10_000


def condition(session: Session, text_wanted: str, ticket: int | None) -> Any:
    """The condition on `tickets` (joined as in store.reads) for `--text text_wanted`; `ticket`, the
    number the text names as the requester sees it, also matches."""
    pattern = f"%{text_wanted.lower()}%"
    subject: Any = func.lower(_t.c.subject).like(pattern)
    in_messages: Any = func.lower(_m.c.text).like(pattern)
    if session.connection().dialect.name != "sqlite":
        found = or_(subject, _t.c.id.in_(select(_m.c.ticket_id).where(in_messages)))
    elif len(text_wanted) >= FTS_MIN and _few(session, "ticket_fts", "subject", pattern) \
            and _few(session, "message_fts", "text", pattern):
        subject = _t.c.id.in_(_fts("ticket_fts", "subject", pattern)) & subject
        in_messages = _m.c.id.in_(_fts("message_fts", "text", pattern)) & in_messages
        found = or_(subject, _t.c.id.in_(select(_m.c.ticket_id).where(in_messages)))
    else:  # Many matches, or text too short for trigrams (`12`, `#1`: most tickets have it).
        found = or_(subject, exists().where(_m.c.ticket_id == _t.c.id, in_messages))
    return or_(found, _t.c.id == ticket) if ticket is not None else found


def _fts(table: str, column: str, pattern: str) -> Any:
    """The rowids of SQLite's trigram table `table` whose `column` may be LIKE `pattern`."""
    rowid: Any = literal_column("rowid")
    return select(rowid).select_from(text(table)).where(literal_column(column).like(pattern))


def _few(session: Session, table: str, column: str, pattern: str) -> bool:
    """Whether at most FEW rows of `table` may match: reads at most FEW + 1 of them."""
    probe = _fts(table, column, pattern).limit(FEW + 1).subquery()
    return int(session.connection().execute(select(func.count()).select_from(probe)).scalar_one()) <= FEW
