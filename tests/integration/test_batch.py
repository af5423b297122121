"""Several inbound rows in one transaction, and several outbox rows delivered together."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, make_mail, outbox_files, query, store

from maildesk.domain import InboundState, OutboxState
from maildesk.pipeline import requester
from maildesk.pipeline.process import process_batch
from maildesk.runtime.wiring import Runtime
from maildesk.store import undeliverable


def test_a_batch_threads_against_mail_earlier_in_the_same_batch(runtime: Runtime) -> None:
    # A new request, a duplicate copy of it with other bytes, a reply citing it, and another request.
    first = store(runtime, make_mail(message_id="b-first"))
    copy = store(runtime, make_mail(message_id="b-first") + b"\r\n")
    reply = store(runtime, make_mail(subject="Re: Printer broken", message_id="b-reply",
                                     References="<b-first@client.example>"))
    other = store(runtime, make_mail(sender="carol@client.example", subject="VPN down", message_id="b-other"),
                  "carol@client.example")
    outcomes = process_batch(runtime.desk, [first, copy, reply, other], NOW)
    assert [(o.inbound_id, o.state, o.ticket_id) for o in outcomes] == [
        (first, InboundState.DONE, 1), (copy, InboundState.DUPLICATE, 1), (reply, InboundState.DONE, 1),
        (other, InboundState.DONE, 2)]
    assert query(runtime.settings, "select count(*) from messages where ticket_id = 1") == [(2,)]
    acks = [i for o in outcomes for i in o.outbox_ids]
    assert len(acks) == 2  # one acknowledgement per new ticket, none for the copy or the reply


def test_a_failing_row_rolls_the_batch_back_and_only_that_row_fails(runtime: Runtime,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug on the middle row of three rolls the batch back: that row waits for a retry, the others make a ticket each.
    good = store(runtime, make_mail(message_id="g-1"))
    bad = store(runtime, make_mail(subject="explode", message_id="g-2"))
    late = store(runtime, make_mail(sender="carol@client.example", subject="Later", message_id="g-3"),
                 "carol@client.example")
    real = requester.take

    def take(turn):  # type: ignore[no-untyped-def]
        if turn.mail.parsed.subject == "explode":
            raise RuntimeError("a bug in the middle of the batch")
        return real(turn)

    monkeypatch.setattr(requester, "take", take)
    outcomes = process_batch(runtime.desk, [good, bad, late], NOW)
    assert [o.state for o in outcomes] == [InboundState.DONE, None, InboundState.DONE]
    assert query(runtime.settings, "select id, state, attempts from inbound order by id") == [
        (good, "done", 0), (bad, "received", 1), (late, "done", 0)]
    # Each good row is on exactly one ticket: the rolled-back first attempt left nothing behind.
    assert query(runtime.settings, "select count(*) from tickets") == [(2,)]
    assert query(runtime.settings, "select count(*) from outbox where kind = 'ack'") == [(2,)]


def test_deliver_many_sends_the_due_rows_and_fails_a_blocked_one(runtime: Runtime) -> None:
    # Three acks (one to a blocked address) and an unknown id delivered together: sent, failed, sent, nothing.
    ids = [store(runtime, make_mail(sender=f"user{i}@client.example", message_id=f"d-{i}"),
                 f"user{i}@client.example") for i in range(3)]
    outcomes = process_batch(runtime.desk, ids, NOW)
    acks = [i for o in outcomes for i in o.outbox_ids]
    with runtime.db.transaction() as session:
        undeliverable.block(session, "user1@client.example", NOW + timedelta(days=60), "hard bounce", None, NOW)
    delivered = runtime.deliver_many([*acks, 999])
    assert [d.state for d in delivered] == [OutboxState.SENT, OutboxState.FAILED, OutboxState.SENT, None]
    assert len(outbox_files(runtime.settings)) == 2
    assert query(runtime.settings, "select state from outbox order by id") == [("sent",), ("failed",), ("sent",)]
    # Delivered rows are not taken again: a second call claims nothing.
    assert [d.state for d in runtime.deliver_many(acks)] == [None, None, None]


def test_the_same_row_twice_in_a_batch_still_hands_over_its_acknowledgement(runtime: Runtime) -> None:
    # The same bytes delivered twice back to back are one row queued twice: the ack goes out at once, not at the sweep.
    first = store(runtime, make_mail(message_id="twice"))
    again = store(runtime, make_mail(message_id="twice"))
    assert again == first
    outcomes = process_batch(runtime.desk, [first, again], NOW)
    assert [o.state for o in outcomes] == [InboundState.DONE, InboundState.DONE]
    assert [len(o.outbox_ids) for o in outcomes] == [1, 0]  # handed to delivery once, by the first
