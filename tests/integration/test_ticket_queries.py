"""`maildesk tickets list` filters on a small desk, on SQLite and on PostgreSQL: each filter and the
combinations an admin uses return exactly the right tickets, and `--text` (answered from the trigram
indexes of migration 0010) finds words and parts of words in any message, also in tickets stored
before that migration."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from click.testing import CliRunner
from conftest import (
    ALICE,
    BOB,
    NOW,
    OUTAGE_RULE,
    URGENT_AND_STANDARD_SLAS,
    DeskFactory,
    make_mail,
    query,
    receive,
    statements_sent,
)
from servers import Postgres, postgres_server  # noqa: F401

from maildesk.cli.app import main
from maildesk.runtime.wiring import Runtime
from maildesk.store import migrate, revision
from maildesk.store.reads import TicketFilter, ticket_rows
from maildesk.sweep.sla import sweep_tickets

RULES = """
[[categories]]
name = "billing"
title = { en = "Invoices" }

""" + OUTAGE_RULE + """
[[rules]]
name = "money"
when = { field = "subject", regex = 'Invoice' }
then = { category = "billing" }

""" + URGENT_AND_STANDARD_SLAS
BEFORE_QUERIES = "0009_answer_brakes"


def listed(rt: Runtime, *args: str) -> list[int]:
    """The ticket ids `maildesk tickets list --json ARGS` prints, in its order."""
    result = CliRunner().invoke(main, ["--config", str(rt.settings.path), "tickets", "list", "--json", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [row["id"] for row in json.loads(result.output)]


@pytest.fixture(params=["sqlite", "postgres"])
def on_backend(request: pytest.FixtureRequest, make_desk: DeskFactory) -> Callable[[], Runtime]:
    """A factory of empty desks (agents Alice and Bob, RULES) on SQLite or on a fresh PostgreSQL database."""
    extra = RULES
    if request.param == "postgres":
        pg: Postgres = request.getfixturevalue("postgres_server")
        extra += f'[database]\nurl = "{pg.new_database()}"\n'
    return lambda: make_desk(extra, agents=(ALICE, BOB))


def three_tickets(rt: Runtime) -> None:
    """1: Carol's printer, open, Alice's. 2: Dan's outage, an urgent incident whose first response
    the sweep finds missed. 3: Erin's invoice, billing, pending, whose second mail names Kerberos."""
    receive(rt, make_mail(sender="carol@client.example", subject="Printer broken",
                          body="The printer jams on every page.", message_id="c1"), "carol@client.example")
    receive(rt, make_mail(sender="dan@client.example", subject="Mail", body="The mail server is down.",
                          message_id="d1"), "dan@client.example")
    receive(rt, make_mail(sender="erin@other.example", subject="Invoice question",
                          body="Please send the invoice again.", message_id="e1"), "erin@other.example")
    receive(rt, make_mail(sender="erin@other.example", subject="Re: [#3] Invoice question",
                          body="Also my KERBEROS login fails since Monday.", message_id="e2"),
            "erin@other.example", when=NOW + timedelta(minutes=5))
    for args in (("set-status", "1", "open"), ("assign", "1", "alice"), ("set-status", "3", "pending")):
        done = CliRunner().invoke(main, ["--config", str(rt.settings.path), "tickets", *args, "--as", "root"])
        assert done.exit_code == 0, done.output
    sweep_tickets(rt.desk, NOW + timedelta(hours=2))


CASES = [
    ((), [3, 2, 1]),
    (("--status", "open"), [1]),
    (("--status", "open,pending"), [3, 1]),
    (("--status", "closed"), []),
    (("--category", "billing"), [3]),
    (("--type", "incident"), [2]),
    (("--type", "request"), [3, 1]),
    (("--requester", "erin"), [3]),
    (("--requester", "CLIENT.example"), [2, 1]),
    (("--assignee", "alice"), [1]),
    (("--assignee", "none"), [3, 2]),
    (("--text", "kerberos"), [3]),  # only in the second message, in capitals
    (("--text", "PRINTER"), [1]),  # subject and message
    (("--text", "jams on every"), [1]),  # words in a row
    (("--text", "nvoic"), [3]),  # part of a word, as LIKE always matched
    (("--text", "server is"), [2]),
    (("--text", "question"), [3]),  # only in the subject
    (("--text", "nothing like this"), []),
    (("--text", "#2"), [2]),  # the ticket's number
    (("--breached",), [2]),
    (("--due-before", "2026-11-20T12:00"), [2]),
    (("--due-before", "2026-11-22T12:00"), [3, 2, 1]),
    (("--since", "2026-11-20T09:00", "--until", "2026-11-20T11:00"), [3, 2, 1]),
    (("--limit", "2"), [3, 2]),
    # Combinations an admin uses: mine and open, unassigned incidents, a word in one category.
    (("--assignee", "alice", "--status", "open"), [1]),
    (("--assignee", "none", "--type", "incident", "--breached"), [2]),
    (("--category", "billing", "--text", "kerberos", "--status", "pending"), [3]),
    (("--category", "billing", "--text", "printer"), []),
    (("--status", "new,open", "--due-before", "2026-11-21T00:00"), [2, 1]),
    (("--requester", "client.example", "--text", "page"), [1]),
]


def test_every_filter_returns_the_right_tickets(on_backend: Callable[[], Runtime]) -> None:
    # Three tickets on each backend: every filter of `tickets list`, alone and combined, lists exactly its tickets.
    rt = on_backend()
    three_tickets(rt)
    wrong = {args: got for args, wanted in CASES if (got := listed(rt, *args)) != wanted}
    assert wrong == {}


def test_text_finds_tickets_stored_before_the_migration(on_backend: Callable[[], Runtime]) -> None:
    # Mail stored at revision 0009 (no trigram index yet) is found by --text once `maildesk init` upgrades.
    rt = on_backend()
    receive(rt, make_mail(sender="carol@client.example", subject="Printer broken",
                          body="The printer jams on every page.", message_id="c1"), "carol@client.example")
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    with rt.db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, BEFORE_QUERIES)
    assert migrate.current_revision(rt.db) == BEFORE_QUERIES
    # Written at 0009 by the same code: nothing but the migration can index these rows.
    receive(rt, make_mail(sender="dan@client.example", subject="Badge", body="My door card is rejected.",
                        message_id="d1"), "dan@client.example")
    receive(rt, make_mail(sender="carol@client.example", subject="Re: [#1] Printer broken",
                          body="Now the scanner fails too.", message_id="c2"), "carol@client.example")
    upgraded = CliRunner().invoke(main, ["--config", str(rt.settings.path), "init"])
    assert upgraded.exit_code == 0, upgraded.output
    assert migrate.current_revision(rt.db) == revision.HEAD
    assert [listed(rt, "--text", word) for word in ("door card", "scanner", "jams", "badge")] == [
        [2], [1], [1], [2]]  # "badge" only in the subject
    # New mail after the upgrade is indexed as it is written.
    receive(rt, make_mail(sender="dan@client.example", subject="Re: [#2] Badge", body="The turnstile too.",
                          message_id="d2"), "dan@client.example")
    assert listed(rt, "--text", "turnstile") == [2]


def test_the_sqlite_index_follows_every_write_of_the_text(make_desk: DeskFactory) -> None:
    # SQLite's trigram tables see an insert, a changed text and a deleted message: --text follows each.
    rt = make_desk()
    receive(rt, make_mail(sender="carol@client.example", subject="Printer broken",
                          body="The printer jams on every page.", message_id="c1"), "carol@client.example")
    assert listed(rt, "--text", "jams") == [1]
    path = rt.settings.database.url.removeprefix("sqlite:///")
    import sqlite3  # as an admin editing the database by hand would

    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE messages SET text = 'The toner is empty.' WHERE ticket_id = 1")
        conn.execute("UPDATE tickets SET subject = 'Toner' WHERE id = 1")
    assert (listed(rt, "--text", "jams"), listed(rt, "--text", "toner"), listed(rt, "--text", "printer")) == (
        [], [1], [])
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM attachments")
        conn.execute("DELETE FROM messages")
    assert listed(rt, "--text", "toner is") == []
    assert query(rt.settings, "SELECT count(*) FROM message_fts WHERE text LIKE '%toner%'") == [(0,)]


def test_postgres_reads_the_list_filters_from_their_indexes(make_desk: DeskFactory,
                                                            postgres_server: Postgres) -> None:  # noqa: F811
    # With sequential scans priced out, PostgreSQL reads each filter of the list query, as the store
    # sends it, from the index migration 0010 made for it (a partial or expression index serves only
    # the very expression it was built on).
    rt = make_desk(RULES + f'[database]\nurl = "{postgres_server.new_database()}"\n', agents=(ALICE, BOB))
    three_tickets(rt)
    sent = statements_sent(rt.db)
    wanted = {"ix_tickets_breached": TicketFilter(breached=True),
              "ix_messages_text_trgm": TicketFilter(text="kerberos"),
              "ix_tickets_first_response_open": TicketFilter(due_before=NOW),
              "ix_tickets_resolution_open": TicketFilter(due_before=NOW),
              "ix_tickets_status": TicketFilter(status="open"),
              "ix_tickets_category": TicketFilter(category="billing"),
              "ix_tickets_assignee": TicketFilter(assignee_id=1),
              "ix_tickets_requester": TicketFilter(requester="erin")}
    plans = {}
    with rt.db.reading() as session:
        conn = session.connection()
        conn.exec_driver_sql("SET enable_seqscan = off")
        for index, flt in wanted.items():
            ticket_rows(session, flt)
            statement, parameters = sent[-1]
            plans[index] = str(conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all())
    # The report's per-assignee duration index (migration 0011) also leads with assignee_id; with
    # both one page big the planner may take either for the assignee filter.
    also = {"ix_tickets_assignee": "ix_tickets_agent_first_response_s"}
    assert {index: index in plan or also.get(index, index) in plan
            for index, plan in plans.items()} == dict.fromkeys(wanted, True)


def test_a_common_text_lists_the_same_tickets_as_a_rare_one_would(make_desk: DeskFactory) -> None:
    # 12,000 tickets name "toner" (more than store.ticket_text.FEW): SQLite walks the newest tickets
    # instead of reading the index, and lists exactly the tickets the plain LIKE finds, newest first.
    rt = make_desk()
    receive(rt, make_mail(sender="carol@client.example", subject="Printer broken",
                          body="The printer jams on every page.", message_id="c1"), "carol@client.example")
    path = rt.settings.database.url.removeprefix("sqlite:///")
    import sqlite3  # as an import from another desk writes rows, past the pipeline

    with sqlite3.connect(path) as conn:
        (requester, created) = conn.execute("SELECT requester_id, created_at FROM tickets").fetchone()
        columns = ("id", "subject", "status", "priority", "category", "queue", "language", "requester_id",
                   "close_reason", "created_at", "updated_at", "type", "tags", "tier", "spam", "sla_policy",
                   "paused_seconds", "clock_status", "sla_sent", "reminders_sent")
        conn.executemany(f"INSERT INTO tickets ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         ((i, f"Ticket {i}", "closed", "normal", "other", "", "en", requester, "", created,
                           created, "request", "[]", "", 0, "", 0, "closed", "", 0) for i in range(2, 12_002)))
        conn.executemany("INSERT INTO messages (ticket_id, direction, message_id, from_email, from_name, subject, "
                         "text, new_text, verdict, verdict_reasons, created_at) VALUES (?, 'inbound', '', '', '', "
                         "'', ?, '', 'human', '[]', ?)",
                         ((i, "Out of TONER again." if i % 7 else "All fine.", created) for i in range(2, 12_002)))
        expected = [i for (i,) in conn.execute(
            "SELECT id FROM tickets WHERE lower(subject) LIKE '%toner%' OR id IN "
            "(SELECT ticket_id FROM messages WHERE lower(text) LIKE '%toner%') ORDER BY id DESC LIMIT 250")]
    assert len(expected) == 250
    assert listed(rt, "--text", "toner", "--limit", "250") == expected
    assert listed(rt, "--text", "printer") == [1]  # rare: read from the index
