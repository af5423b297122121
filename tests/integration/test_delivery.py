"""Delivery of outbox rows: through smtp:// to a real SMTP sink, retries, permanent failures, Maildir."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, DeskFactory, Sink, free_port, make_mail, query, receive, sink_server

from maildesk.domain import OutboxState
from maildesk.outbound.delivery import deliver
from maildesk.runtime.wiring import Runtime


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with sink_server() as running:
        yield running


def _relay(port: int) -> str:
    """The [outbound] lines for a relay on `port`, tried three times at most."""
    return f'url = "smtp://127.0.0.1:{port}"\nmax_attempts = 3\n'


def _one_ack(rt: Runtime) -> int:
    (outbox_id,) = receive(rt, make_mail(), source="t").outbox_ids
    return outbox_id


def test_smtp_relay_receives_the_acknowledgement(make_desk: DeskFactory, sink: tuple[Sink, int]) -> None:
    # The acknowledgement goes through smtp:// to a real SMTP server, envelope and bytes intact.
    handler, port = sink
    rt = make_desk(outbound=_relay(port))
    outbox_id = _one_ack(rt)
    assert rt.deliver(outbox_id).state == OutboxState.SENT
    ((mail_from, rcpt, raw),) = handler.received
    assert (mail_from, rcpt) == ("support@example.org", ["bob@client.example"])
    assert b"Subject: [#1] Printer broken" in raw
    assert query(rt.settings, "select state, attempts from outbox") == [("sent", 1)]


def test_temporary_failure_is_retried_with_the_same_message_id(make_desk: DeskFactory, sink: tuple[Sink, int]) -> None:
    # A 451 leaves the row pending with a backoff; the retry sends the very same message.
    handler, port = sink
    rt = make_desk(outbound=_relay(port))
    outbox_id = _one_ack(rt)
    handler.answers.append("451 4.3.0 try later")
    first = deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, NOW)
    assert first.state == OutboxState.PENDING
    (due,) = query(rt.settings, "select next_attempt_at from outbox")
    assert due[0] is not None
    assert deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, NOW).state is None  # not yet due
    later = NOW + timedelta(days=1)
    assert deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, later).state == OutboxState.SENT
    (stored_id,) = query(rt.settings, "select message_id from outbox")
    assert f"<{stored_id[0]}>".encode() in handler.received[0][2]


def test_permanent_failure_marks_the_row_failed(make_desk: DeskFactory, sink: tuple[Sink, int]) -> None:
    # A 550 is final: no more attempts, the reason is kept.
    handler, port = sink
    rt = make_desk(outbound=_relay(port))
    outbox_id = _one_ack(rt)
    handler.answers.append("550 5.1.1 no such user")
    assert rt.deliver(outbox_id).state == OutboxState.FAILED
    ((state, error),) = query(rt.settings, "select state, last_error from outbox")
    assert state == "failed" and "550" in str(error)


def test_relay_down_gives_up_after_max_attempts(make_desk: DeskFactory) -> None:
    # With nothing listening, each attempt is transient until max_attempts, then the row fails.
    rt = make_desk(outbound=_relay(free_port()))
    outbox_id = _one_ack(rt)
    states = [deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, NOW + timedelta(days=i)).state
              for i in range(4)]
    assert states == [OutboxState.PENDING, OutboxState.PENDING, OutboxState.FAILED, None]


def test_maildir_delivery_is_exactly_once(runtime: Runtime) -> None:
    # Sending the same outbox message twice (a retry after a crash) leaves one file.
    (outbox_id,) = receive(runtime, make_mail(), rcpt="s@x", source="t").outbox_ids
    ((raw, message_id),) = query(runtime.settings, "select raw, message_id from outbox")
    for _ in range(2):
        runtime.sender.send("support@example.org", ["bob@client.example"], raw, str(message_id))  # type: ignore[arg-type]
    outbox = Path(runtime.settings.outbound.url.removeprefix("maildir:")) / "new"
    assert len(list(outbox.iterdir())) == 1
    assert runtime.deliver(outbox_id).state == OutboxState.SENT
    assert len(list(outbox.iterdir())) == 1
