"""Correctness under concurrency on PostgreSQL: many workers on one database at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

import psycopg
import pytest
from conftest import NOW, DeskFactory, make_mail, query, store, wait_for
from servers import Postgres, postgres_server  # noqa: F401
from sqlalchemy import select, text

from maildesk.domain import Status
from maildesk.runtime.wiring import Runtime
from maildesk.store import imap_state, inbound
from maildesk.store.models import Event, Inbound, Message, Outbox, Ticket


@pytest.fixture
def pg_runtime(make_desk: DeskFactory, postgres_server: Postgres) -> Runtime:  # noqa: F811
    """A desk on a fresh PostgreSQL database."""
    return make_desk(f'[database]\nurl = "{postgres_server.new_database()}"\n')


_store = partial(store, source="smtp")  # as the SMTP listener stores mail


def _at_once(actions: list[Callable[[], object]]) -> None:
    """Run every action in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            action()
        except BaseException as exc:  # collected so the test fails with the cause
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_ticket_numbers_come_from_the_sequence(pg_runtime: Runtime) -> None:
    # Eight workers open 24 tickets at once: distinct numbers; a rolled-back ticket's number is never reused.
    ids = [_store(pg_runtime, make_mail(sender=f"u{i}@client.example", message_id=f"seq{i}")) for i in range(24)]
    _at_once([lambda chunk=ids[k::8]: [pg_runtime.process(i) for i in chunk] for k in range(8)])  # type: ignore[misc]
    with pg_runtime.db.reading() as s:
        numbers = list(s.scalars(select(Ticket.id)))
        lost = s.scalar(text("select nextval('tickets_id_seq')"))
    assert len(numbers) == len(set(numbers)) == 24
    assert lost is not None and lost > max(numbers)  # the sequence moved on; that number is never handed out
    _store(pg_runtime, make_mail(sender="late@client.example", message_id="late"))
    pg_runtime.process(ids[-1] + 1)
    with pg_runtime.db.reading() as s:
        assert max(s.scalars(select(Ticket.id))) > lost


def test_two_replies_at_the_same_moment_both_land(pg_runtime: Runtime) -> None:
    # Two replies to a resolved ticket, processed at once by two workers: both on the ticket, one reopening.
    first = _store(pg_runtime, make_mail(message_id="orig"))
    pg_runtime.process(first)
    with pg_runtime.db.transaction() as s:
        ticket = s.get(Ticket, 1)
        assert ticket is not None
        ticket.status = Status.RESOLVED
    replies = [_store(pg_runtime, make_mail(subject="Re: [#1] Printer broken", message_id=f"re{i}",
                                            body=f"reply {i}")) for i in range(2)]
    _at_once([lambda i=i: pg_runtime.process(i) for i in replies])  # type: ignore[misc]
    with pg_runtime.db.reading() as s:
        on_ticket = list(s.scalars(select(Message.message_id).where(Message.ticket_id == 1)))
        status = s.scalar(select(Ticket.status).where(Ticket.id == 1))
        reopened = list(s.scalars(select(Event.id).where(Event.ticket_id == 1, Event.kind == "status")))
    assert sorted(on_ticket) == ["orig@client.example", "re0@client.example", "re1@client.example"]
    assert status == Status.OPEN
    assert len(reopened) == 1  # the second reply saw the first's commit, not a stale "resolved"


def test_redelivered_message_is_processed_once(pg_runtime: Runtime) -> None:
    # The same "look at row N" handed to four workers at once makes one ticket and one acknowledgement.
    inbound = _store(pg_runtime, make_mail(message_id="dup"))
    _at_once([lambda: pg_runtime.process(inbound) for _ in range(4)])
    with pg_runtime.db.reading() as s:
        assert s.scalar(select(Inbound.state).where(Inbound.id == inbound)) == "done"
        assert len(list(s.scalars(select(Ticket.id)))) == 1
        assert len(list(s.scalars(select(Outbox.id).where(Outbox.kind == "ack")))) == 1


def test_concurrent_sweeps_claim_disjoint_rows(pg_runtime: Runtime) -> None:
    # Two sweeps claiming due rows at once with SKIP LOCKED never get the same row.
    for i in range(20):
        _store(pg_runtime, make_mail(message_id=f"sw{i}"))
    claimed: list[list[int]] = []
    inside = threading.Barrier(2)

    def sweep() -> None:
        with pg_runtime.db.transaction() as s:
            rows = inbound.stuck_ids(s, NOW + timedelta(days=1), 15)
            claimed.append(rows)
            inside.wait()  # both hold their claims at the same time
    _at_once([sweep, sweep])
    assert len(claimed) == 2 and not set(claimed[0]) & set(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == list(range(1, 21))


def test_imap_lease_has_one_holder(pg_runtime: Runtime) -> None:
    # Four front ends ask for one account's lease at once: one wins; it expires and another may take it.
    won: list[str] = []

    def ask(holder: str) -> None:
        with pg_runtime.db.transaction() as s:
            if imap_state.take_lease(s, "support", holder, NOW, NOW + timedelta(seconds=60)):
                won.append(holder)
    _at_once([lambda h=h: ask(h) for h in ("a", "b", "c", "d")])  # type: ignore[misc]
    assert len(won) == 1
    with pg_runtime.db.transaction() as s:
        other = "b" if won[0] != "b" else "c"
        assert not imap_state.take_lease(s, "support", other, NOW + timedelta(seconds=30), NOW)
        assert imap_state.take_lease(s, "support", other, NOW + timedelta(seconds=61), NOW + timedelta(seconds=120))


@contextmanager
def _held(runtime: Runtime, statement: str) -> Iterator[Callable[[int], None]]:
    """Run `statement` in a transaction of the test's own that stays open; yields a function that
    waits until that many other sessions of the database queue behind a lock. Ends with a rollback."""
    url = runtime.settings.database.url.replace("+psycopg", "")
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watcher:
        holder.execute(statement)

        def waiting(count: int) -> None:
            waits = "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
            wait_for(lambda: watcher.execute(waits).fetchone() == (count,), 20, f"{count} workers waiting on a lock")
        yield waiting
        holder.rollback()


def _in_thread(action: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=action)
    thread.start()
    return thread


def test_two_copies_of_one_mail_at_the_same_instant_make_one_ticket(pg_runtime: Runtime) -> None:
    # Two copies of one mail (same Message-ID, sender, subject, text; one more Received: line) are processed at once by two workers: one ticket, the other copy a duplicate.
    raw = make_mail(sender="dup@client.example", message_id="twice")
    copies = [_store(pg_runtime, raw), _store(pg_runtime, b"Received: from mx2.client.example\r\n" + raw)]
    # Both workers get past the start of their transaction and queue behind the test, which is adding the
    # sender's contact: without a lock on the Message-ID both have looked for the mail by then and found nothing.
    with _held(pg_runtime, "insert into contacts (email, name, created_at) values ('dup@client.example', '', now())") as waiting:
        first = _in_thread(lambda: pg_runtime.process(copies[0]))
        waiting(1)
        second = _in_thread(lambda: pg_runtime.process(copies[1]))
        waiting(2)
    first.join(30)
    second.join(30)
    rows = sorted(map(tuple, query(pg_runtime.settings, "select state, ticket_id from inbound order by id")))
    assert rows == [("done", 1), ("duplicate", 1)]
    assert query(pg_runtime.settings, "select count(*) from tickets") == [(1,)]


def test_tag_and_reference_naming_two_tickets_in_opposite_order_never_deadlock(pg_runtime: Runtime) -> None:
    # Mail X is tagged #1 and cites ticket 2's mail, mail Y the other way round; processed at once, both land at the first attempt.
    for who, mid in (("a", "t1"), ("b", "t2")):
        pg_runtime.process(_store(pg_runtime, make_mail(sender=f"{who}@client.example", message_id=mid)))
    x = _store(pg_runtime, make_mail(sender="a@client.example", subject="Re: [#1] Printer broken", message_id="x",
                                     References="<t2@client.example>"))
    y = _store(pg_runtime, make_mail(sender="b@client.example", subject="Re: [#2] Printer broken", message_id="y",
                                     References="<t1@client.example>"))
    # The test holds ticket 1: X queues for it first; Y, in the old order, took ticket 2 before queueing too.
    with _held(pg_runtime, "select id from tickets where id = 1 for update") as waiting:
        first = _in_thread(lambda: pg_runtime.process(x))
        waiting(1)
        second = _in_thread(lambda: pg_runtime.process(y))
        waiting(2)
    first.join(30)
    second.join(30)
    rows = query(pg_runtime.settings, "select state, attempts, error from inbound where id in (?, ?) order by id", x, y)
    assert rows == [("done", 0, ""), ("done", 0, "")]
